/** initialize_vault, initialize_vault_authority and the admin instructions (spec §4.1–4.3). */
import type { PublicKey } from "@solana/web3.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  COLLATERAL_VAULT_SIZE,
  encodeEvent,
  encodeVaultAuthority,
  MAX_AUTHORIZED_PROGRAMS,
  SYSTEM_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  VAULT_AUTHORITY_SEED,
  VAULT_AUTHORITY_SIZE,
  VAULT_SEED,
  type VaultAuthority,
} from "../../../src/chain/program/index.ts";
import type { InstructionAccount, InvokeContext } from "../program-model.ts";
import { AccountCursor, AnchorFailure, checkConstraint, checkMut, checkSeeds, type Loaded } from "./anchor.ts";
import { createAssociatedTokenAccount, initPdaAccount } from "./cpi.ts";
import { source, writeVault } from "./state.ts";

/** initialize_vault: creates the vault PDA and its ATA; not gated by pause, does not read VaultAuthority. */
export function initializeVault(accounts: InstructionAccount[], ctx: InvokeContext): void {
  const c = new AccountCursor(accounts, ctx);
  const user = c.signer("user");
  const vault = c.take("vault", false);
  // §8.5: `usdt_mint` is any initialized SPL-Token mint; nothing pins it to USDT (InvalidTokenMint is never raised).
  const mint = c.mint("usdt_mint");
  const ata = c.take("vault_token_account", false);
  c.program("system_program", SYSTEM_PROGRAM_ID);
  c.program("token_program", TOKEN_PROGRAM_ID);
  c.program("associated_token_program", ASSOCIATED_TOKEN_PROGRAM_ID);

  const bump = initPdaAccount(ctx, vault, user.key, [VAULT_SEED, user.key.toBytes()], COLLATERAL_VAULT_SIZE);
  // §8.4: plain `init` uses the ATA program's non-idempotent Create, so a pre-created vault ATA (anyone can create
  // it: the address is deterministic) makes this CPI fail and blocks initialize_vault for (user, mint) for good.
  // Anchor's post-create mint/owner/address checks cannot fail after the ATA program's own derivation check.
  createAssociatedTokenAccount(ctx, { payer: user.key, ata: ata.key, wallet: vault.key, mint: mint.key });
  checkMut(ata);
  checkMut(user);

  ctx.consumeUnits(4_000);
  const now = ctx.clock.unixTimestamp;
  writeVault(ctx, vault.key, {
    owner: user.key,
    tokenAccount: ata.key,
    totalBalance: 0n,
    lockedBalance: 0n,
    availableBalance: 0n,
    totalDeposited: 0n,
    totalWithdrawn: 0n,
    createdAt: now,
    bump,
  });
  ctx.logData(
    encodeEvent({
      name: "VaultInitializedEvent",
      data: { owner: user.key, vault: vault.key, tokenAccount: ata.key, timestamp: now },
    }),
  );
  ctx.log(`Vault initialized for user: ${user.key.toBase58()}`);
}

/** Writes the Borsh body over the existing data: Anchor's exit leaves a stale tail when the list shrank. */
function writeAuthority(ctx: InvokeContext, key: PublicKey, a: VaultAuthority): void {
  const current = ctx.getAccount(key)?.data ?? new Uint8Array(VAULT_AUTHORITY_SIZE);
  const next = Uint8Array.from(current);
  next.set(encodeVaultAuthority(a).subarray(0, 8 + 46 + 32 * a.authorizedPrograms.length));
  ctx.setAccountData(key, next);
}

/**
 * initialize_vault_authority. §8.3: whoever calls it first on a fresh deployment becomes admin for good; there is
 * no upgrade-authority check, hard-coded admin or rotation.
 */
export function initializeVaultAuthority(accounts: InstructionAccount[], ctx: InvokeContext): void {
  const c = new AccountCursor(accounts, ctx);
  const admin = c.signer("admin");
  const authority = c.take("vault_authority", false);
  c.program("system_program", SYSTEM_PROGRAM_ID);
  const bump = initPdaAccount(ctx, authority, admin.key, [VAULT_AUTHORITY_SEED], VAULT_AUTHORITY_SIZE);
  checkMut(admin);

  ctx.consumeUnits(2_500);
  writeAuthority(ctx, authority.key, {
    admin: admin.key,
    authorizedPrograms: [],
    bump,
    isPaused: false,
    lastUpdated: ctx.clock.unixTimestamp,
  });
  ctx.log(`Vault authority initialized. Admin: ${admin.key.toBase58()}`);
}

/** The `UpdateVaultAuthority` struct shared by add/remove/set_paused. */
function loadUpdateAuthority(
  accounts: InstructionAccount[],
  ctx: InvokeContext,
): { admin: Loaded; auth: Loaded; value: VaultAuthority } {
  const c = new AccountCursor(accounts, ctx);
  const admin = c.signer("admin");
  const auth = c.authority("vault_authority");
  checkConstraint(admin, admin.key.equals(auth.value.admin), "NotAdmin");
  checkSeeds(auth, [VAULT_AUTHORITY_SEED], auth.value.bump, ctx);
  ctx.consumeUnits(1_500);
  checkMut(auth);
  return { admin, auth, value: auth.value };
}

/** add_authorized_program: no-op when present (last_updated still moves); 12023 when 10 are listed. */
export function addAuthorizedProgram(
  accounts: InstructionAccount[],
  args: { programId: PublicKey },
  ctx: InvokeContext,
) {
  const { auth, value } = loadUpdateAuthority(accounts, ctx);
  ctx.consumeUnits(2_000);
  if (!value.authorizedPrograms.some((p) => p.equals(args.programId))) {
    if (value.authorizedPrograms.length >= MAX_AUTHORIZED_PROGRAMS) {
      throw new AnchorFailure("MaxAuthorizedProgramsReached", source("add_authorized_program", 24));
    }
    value.authorizedPrograms.push(args.programId);
  }
  value.lastUpdated = ctx.clock.unixTimestamp;
  ctx.log(`Added authorized program: ${args.programId.toBase58()}`);
  writeAuthority(ctx, auth.key, value);
}

/** remove_authorized_program: keeps every other entry; no error when absent. */
export function removeAuthorizedProgram(
  accounts: InstructionAccount[],
  args: { programId: PublicKey },
  ctx: InvokeContext,
) {
  const { auth, value } = loadUpdateAuthority(accounts, ctx);
  ctx.consumeUnits(2_000);
  value.authorizedPrograms = value.authorizedPrograms.filter((p) => !p.equals(args.programId));
  value.lastUpdated = ctx.clock.unixTimestamp;
  ctx.log(`Removed authorized program: ${args.programId.toBase58()}`);
  writeAuthority(ctx, auth.key, value);
}

/** set_paused: sets the flag and emits VaultPausedEvent; not itself gated by pause. */
export function setPaused(accounts: InstructionAccount[], args: { isPaused: boolean }, ctx: InvokeContext) {
  const { admin, auth, value } = loadUpdateAuthority(accounts, ctx);
  ctx.consumeUnits(2_000);
  value.isPaused = args.isPaused;
  value.lastUpdated = ctx.clock.unixTimestamp;
  ctx.logData(
    encodeEvent({
      name: "VaultPausedEvent",
      data: { isPaused: args.isPaused, admin: admin.key, timestamp: value.lastUpdated },
    }),
  );
  ctx.log(`Vault system ${args.isPaused ? "paused" : "unpaused"} by admin: ${admin.key.toBase58()}`);
  writeAuthority(ctx, auth.key, value);
}
