/** transfer_collateral (spec §4.8), with the §8.1, §8.2 and §8.7 behaviour reproduced on purpose. */
import {
  encodeEvent,
  TOKEN_PROGRAM_ID,
  type TransferReason,
  VAULT_AUTHORITY_SEED,
  VAULT_SEED,
} from "../../../src/chain/program/index.ts";
import type { InstructionAccount, InvokeContext } from "../program-model.ts";
import { AccountCursor, AnchorFailure, checkConstraint, checkMut, checkSeeds } from "./anchor.ts";
import { tokenTransfer } from "./cpi.ts";
import { add, source, sub, writeVault } from "./state.ts";

const REASON_DEBUG: Record<TransferReason, string> = {
  settlement: "Settlement",
  liquidation: "Liquidation",
  feeCollection: "FeeCollection",
  insuranceFund: "InsuranceFund",
  other: "Other",
};

function loadTransfer(accounts: InstructionAccount[], ctx: InvokeContext) {
  const c = new AccountCursor(accounts, ctx);
  // §8.1: any signer may move anyone's collateral; `authorized_programs` is never read.
  const authority = c.signer("authority");
  // Each vault is deserialized into its own copy, even when from_vault == to_vault (§8.2).
  const from = c.vault("from_vault");
  const fromToken = c.tokenAccount("from_token_account");
  const to = c.vault("to_vault");
  const toToken = c.tokenAccount("to_token_account");
  const auth = c.authority("vault_authority");
  c.program("token_program", TOKEN_PROGRAM_ID);

  checkSeeds(from, [VAULT_SEED, from.value.owner.toBytes()], from.value.bump, ctx);
  checkMut(from);
  checkMut(fromToken);
  checkConstraint(fromToken, fromToken.key.equals(from.value.tokenAccount), "Unauthorized");
  checkSeeds(to, [VAULT_SEED, to.value.owner.toBytes()], to.value.bump, ctx);
  checkMut(to);
  checkMut(toToken);
  checkConstraint(toToken, toToken.key.equals(to.value.tokenAccount), "Unauthorized");
  checkSeeds(auth, [VAULT_AUTHORITY_SEED], auth.value.bump, ctx);
  ctx.consumeUnits(3_000);
  return { authority, from, fromToken, to, toToken, auth };
}

/** transfer_collateral: checks the source's TOTAL (§8.7), drains locked first, then available. */
export function transferCollateral(
  accounts: InstructionAccount[],
  args: { amount: bigint; reason: TransferReason },
  ctx: InvokeContext,
): void {
  const { authority, from, fromToken, to, toToken, auth } = loadTransfer(accounts, ctx);
  const amount = args.amount;
  if (amount === 0n) throw new AnchorFailure("InvalidAmount", source("transfer_collateral", 49));
  if (auth.value.isPaused) throw new AnchorFailure("VaultPaused", source("transfer_collateral", 50));
  const f = from.value;
  if (f.totalBalance < amount) throw new AnchorFailure("InsufficientBalance", source("transfer_collateral", 54));

  // A self-transfer succeeds in SPL Token without moving anything.
  tokenTransfer(ctx, { from: fromToken.key, to: toToken.key, authority: from.key, amount, pdaSigner: from.key });

  f.totalBalance = sub(f.totalBalance, amount);
  if (f.lockedBalance >= amount) {
    f.lockedBalance -= amount;
  } else {
    const rest = amount - f.lockedBalance;
    f.lockedBalance = 0n;
    f.availableBalance = sub(f.availableBalance, rest);
  }
  const t = to.value;
  t.totalBalance = add(t.totalBalance, amount);
  t.availableBalance = add(t.availableBalance, amount);

  ctx.logData(
    encodeEvent({
      name: "TransferCollateralEvent",
      data: {
        fromVault: from.key,
        toVault: to.key,
        amount,
        transferredBy: authority.key,
        reason: args.reason,
        timestamp: ctx.clock.unixTimestamp,
      },
    }),
  );
  ctx.log(
    `Transferred ${amount} USDT from ${from.key.toBase58()} to ${to.key.toBase58()}. Reason: ${REASON_DEBUG[args.reason]}`,
  );
  // §8.2: Anchor's exit writes the `mut` accounts back in field order, so when from_vault == to_vault the
  // to_vault copy (total and available both + amount, no tokens behind it) overwrites the from_vault copy.
  writeVault(ctx, from.key, f);
  writeVault(ctx, to.key, t);
}
