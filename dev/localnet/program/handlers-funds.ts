/** deposit, withdraw, lock_collateral, unlock_collateral, transfer_collateral (spec §4.4–4.8, §7). */
import { encodeEvent, TOKEN_PROGRAM_ID, VAULT_AUTHORITY_SEED, VAULT_SEED } from "../../../src/chain/program/index.ts";
import type { InstructionAccount, InvokeContext } from "../program-model.ts";
import { AccountCursor, AnchorFailure, checkConstraint, checkMut, checkSeeds } from "./anchor.ts";
import { tokenTransfer } from "./cpi.ts";
import { add, source, sub, writeVault } from "./state.ts";

type VaultAuthorityValue = { isPaused: boolean };

/** Handler steps 1–2 shared by every balance instruction: amount > 0 (6000), then not paused (12032). */
function requireActive(file: string, amount: bigint, auth: VaultAuthorityValue): void {
  if (amount === 0n) throw new AnchorFailure("InvalidAmount", source(file, 31));
  if (auth.isPaused) throw new AnchorFailure("VaultPaused", source(file, 32));
}

/** The `Deposit`/`Withdraw` account struct (identical for both). */
function loadUserFlow(accounts: InstructionAccount[], ctx: InvokeContext) {
  const c = new AccountCursor(accounts, ctx);
  const user = c.signer("user");
  const vault = c.vault("vault");
  const userToken = c.tokenAccount("user_token_account");
  const vaultToken = c.tokenAccount("vault_token_account");
  const auth = c.authority("vault_authority");
  c.program("token_program", TOKEN_PROGRAM_ID);

  checkMut(user);
  checkSeeds(vault, [VAULT_SEED, user.key.toBytes()], vault.value.bump, ctx);
  checkMut(vault);
  // §8.8: unreachable: another user's vault already failed the seeds check above with 2006.
  checkConstraint(vault, vault.value.owner.equals(user.key), "Unauthorized");
  checkMut(userToken);
  // The mint is not checked here: a foreign-mint account fails only in the token program (0x3).
  checkConstraint(userToken, userToken.owner.equals(user.key), "Unauthorized");
  checkMut(vaultToken);
  checkConstraint(vaultToken, vaultToken.key.equals(vault.value.tokenAccount), "Unauthorized");
  checkSeeds(auth, [VAULT_AUTHORITY_SEED], auth.value.bump, ctx);
  ctx.consumeUnits(2_500);
  return { user, vault, userToken, vaultToken, auth };
}

/** deposit: user token account → vault ATA (user signs), then total/available/total_deposited += amount. */
export function deposit(accounts: InstructionAccount[], args: { amount: bigint }, ctx: InvokeContext): void {
  const { user, vault, userToken, vaultToken, auth } = loadUserFlow(accounts, ctx);
  requireActive("deposit", args.amount, auth.value);
  tokenTransfer(ctx, { from: userToken.key, to: vaultToken.key, authority: user.key, amount: args.amount });
  const v = vault.value;
  v.totalBalance = add(v.totalBalance, args.amount);
  v.availableBalance = add(v.availableBalance, args.amount);
  v.totalDeposited = add(v.totalDeposited, args.amount);
  const timestamp = ctx.clock.unixTimestamp;
  ctx.logData(
    encodeEvent({
      name: "DepositEvent",
      data: { user: user.key, vault: vault.key, amount: args.amount, newBalance: v.totalBalance, timestamp },
    }),
  );
  ctx.log(`Deposited ${args.amount} USDT. New balance: ${v.totalBalance}`);
  writeVault(ctx, vault.key, v);
}

/** withdraw: requires available ≥ amount; vault ATA → user (vault PDA signs by seeds). */
export function withdraw(accounts: InstructionAccount[], args: { amount: bigint }, ctx: InvokeContext): void {
  const { user, vault, userToken, vaultToken, auth } = loadUserFlow(accounts, ctx);
  requireActive("withdraw", args.amount, auth.value);
  const v = vault.value;
  if (v.availableBalance < args.amount) throw new AnchorFailure("InsufficientBalance", source("withdraw", 36));
  tokenTransfer(ctx, {
    from: vaultToken.key,
    to: userToken.key,
    authority: vault.key,
    amount: args.amount,
    pdaSigner: vault.key,
  });
  v.totalBalance = sub(v.totalBalance, args.amount);
  v.availableBalance = sub(v.availableBalance, args.amount);
  v.totalWithdrawn = add(v.totalWithdrawn, args.amount);
  const timestamp = ctx.clock.unixTimestamp;
  ctx.logData(
    encodeEvent({
      name: "WithdrawEvent",
      data: { user: user.key, vault: vault.key, amount: args.amount, remainingBalance: v.totalBalance, timestamp },
    }),
  );
  ctx.log(`Withdrew ${args.amount} USDT. Remaining balance: ${v.totalBalance}`);
  writeVault(ctx, vault.key, v);
}

/** The `LockCollateral`/`UnlockCollateral` struct. §8.1: `authority` is ANY signer; nothing else is checked. */
function loadLock(accounts: InstructionAccount[], ctx: InvokeContext) {
  const c = new AccountCursor(accounts, ctx);
  const authority = c.signer("authority");
  const vault = c.vault("vault");
  const auth = c.authority("vault_authority");
  // Self-referential seeds ["vault", vault.owner]: any CollateralVault of the program passes.
  checkSeeds(vault, [VAULT_SEED, vault.value.owner.toBytes()], vault.value.bump, ctx);
  checkMut(vault);
  checkSeeds(auth, [VAULT_AUTHORITY_SEED], auth.value.bump, ctx);
  ctx.consumeUnits(1_500);
  return { authority, vault, auth };
}

/** lock_collateral: available → locked; requires available ≥ amount (12010). */
export function lockCollateral(accounts: InstructionAccount[], args: { amount: bigint }, ctx: InvokeContext): void {
  const { authority, vault, auth } = loadLock(accounts, ctx);
  requireActive("lock_collateral", args.amount, auth.value);
  const v = vault.value;
  if (v.availableBalance < args.amount) throw new AnchorFailure("InsufficientBalance", source("lock_collateral", 38));
  v.lockedBalance = add(v.lockedBalance, args.amount);
  v.availableBalance = sub(v.availableBalance, args.amount);
  ctx.logData(
    encodeEvent({
      name: "LockCollateralEvent",
      data: {
        user: v.owner,
        vault: vault.key,
        amount: args.amount,
        newLockedBalance: v.lockedBalance,
        newAvailableBalance: v.availableBalance,
        lockedBy: authority.key,
        timestamp: ctx.clock.unixTimestamp,
      },
    }),
  );
  ctx.log(`Locked ${args.amount} USDT. Locked: ${v.lockedBalance}, Available: ${v.availableBalance}`);
  writeVault(ctx, vault.key, v);
}

/** unlock_collateral: locked → available; requires locked ≥ amount (12012). */
export function unlockCollateral(accounts: InstructionAccount[], args: { amount: bigint }, ctx: InvokeContext): void {
  const { authority, vault, auth } = loadLock(accounts, ctx);
  requireActive("unlock_collateral", args.amount, auth.value);
  const v = vault.value;
  if (v.lockedBalance < args.amount) {
    throw new AnchorFailure("InsufficientLockedBalance", source("unlock_collateral", 38));
  }
  v.lockedBalance = sub(v.lockedBalance, args.amount);
  v.availableBalance = add(v.availableBalance, args.amount);
  ctx.logData(
    encodeEvent({
      name: "UnlockCollateralEvent",
      data: {
        user: v.owner,
        vault: vault.key,
        amount: args.amount,
        newLockedBalance: v.lockedBalance,
        newAvailableBalance: v.availableBalance,
        unlockedBy: authority.key,
        timestamp: ctx.clock.unixTimestamp,
      },
    }),
  );
  ctx.log(`Unlocked ${args.amount} USDT. Locked: ${v.lockedBalance}, Available: ${v.availableBalance}`);
  writeVault(ctx, vault.key, v);
}
