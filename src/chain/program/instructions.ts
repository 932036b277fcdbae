/** Instruction builders of the vault program: account order and flags exactly as spec §4. */
import { type AccountMeta, type PublicKey, TransactionInstruction } from "@solana/web3.js";
import { BorshWriter } from "./borsh.ts";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  INSTRUCTION_DISCRIMINATORS,
  SYSTEM_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  type TransferReason,
  transferReasonIndex,
  U64_MAX,
  type VaultInstructionName,
} from "./constants.ts";
import { findVaultAddress, findVaultAuthorityAddress, vaultTokenAccountAddress } from "./pda.ts";

/** Throws a RangeError unless `amount` is a bigint in 0..2^64−1. */
export function assertU64(amount: bigint, what = "amount"): bigint {
  if (typeof amount !== "bigint" || amount < 0n || amount > U64_MAX) {
    throw new RangeError(`${what} must be a bigint between 0 and 2^64-1, got ${String(amount)}`);
  }
  return amount;
}

const meta = (pubkey: PublicKey, isSigner: boolean, isWritable: boolean): AccountMeta => ({
  pubkey,
  isSigner,
  isWritable,
});

/** web3.js types instruction data as Node's Buffer; named via its own signature so workerd types need no @types/node. */
type IxData = NonNullable<ConstructorParameters<typeof TransactionInstruction>[0]["data"]>;

function data(name: VaultInstructionName, write?: (w: BorshWriter) => void): IxData {
  const w = new BorshWriter().bytes(INSTRUCTION_DISCRIMINATORS[name]);
  write?.(w);
  return toIxData(w.toBytes());
}

/** A Buffer where the runtime has one (Node, workerd with nodejs_compat), else the plain bytes (web3.js copes). */
function toIxData(bytes: Uint8Array): IxData {
  const B = (globalThis as { Buffer?: { from(b: Uint8Array): IxData } }).Buffer;
  return B ? B.from(bytes) : (bytes as IxData);
}

function ix(programId: PublicKey, keys: AccountMeta[], payload: IxData): TransactionInstruction {
  return new TransactionInstruction({ programId, keys, data: payload });
}

/** initialize_vault: creates the user's vault PDA and its ATA for `mint` (user pays). */
export function initializeVaultIx(p: {
  programId: PublicKey;
  user: PublicKey;
  mint: PublicKey;
}): TransactionInstruction {
  const [vault] = findVaultAddress(p.programId, p.user);
  return ix(
    p.programId,
    [
      meta(p.user, true, true),
      meta(vault, false, true),
      meta(p.mint, false, false),
      meta(vaultTokenAccountAddress(vault, p.mint), false, true),
      meta(SYSTEM_PROGRAM_ID, false, false),
      meta(TOKEN_PROGRAM_ID, false, false),
      meta(ASSOCIATED_TOKEN_PROGRAM_ID, false, false),
    ],
    data("initializeVault"),
  );
}

/** initialize_vault_authority: creates the global VaultAuthority; the signer becomes admin. */
export function initializeVaultAuthorityIx(p: { programId: PublicKey; admin: PublicKey }): TransactionInstruction {
  const [authority] = findVaultAuthorityAddress(p.programId);
  return ix(
    p.programId,
    [meta(p.admin, true, true), meta(authority, false, true), meta(SYSTEM_PROGRAM_ID, false, false)],
    data("initializeVaultAuthority"),
  );
}

function adminKeys(programId: PublicKey, admin: PublicKey): AccountMeta[] {
  const [authority] = findVaultAuthorityAddress(programId);
  return [meta(admin, true, false), meta(authority, false, true)];
}

/** add_authorized_program(program_id): admin only. */
export function addAuthorizedProgramIx(p: { programId: PublicKey; admin: PublicKey; program: PublicKey }) {
  return ix(
    p.programId,
    adminKeys(p.programId, p.admin),
    data("addAuthorizedProgram", (w) => w.pubkey(p.program)),
  );
}

/** remove_authorized_program(program_id): admin only. */
export function removeAuthorizedProgramIx(p: { programId: PublicKey; admin: PublicKey; program: PublicKey }) {
  return ix(
    p.programId,
    adminKeys(p.programId, p.admin),
    data("removeAuthorizedProgram", (w) => w.pubkey(p.program)),
  );
}

/** set_paused(is_paused): admin only. */
export function setPausedIx(p: { programId: PublicKey; admin: PublicKey; paused: boolean }): TransactionInstruction {
  return ix(
    p.programId,
    adminKeys(p.programId, p.admin),
    data("setPaused", (w) => w.bool(p.paused)),
  );
}

export interface TokenFlowParams {
  programId: PublicKey;
  user: PublicKey;
  userTokenAccount: PublicKey;
  vaultTokenAccount: PublicKey;
  amount: bigint;
}

function tokenFlowIx(name: "deposit" | "withdraw", p: TokenFlowParams): TransactionInstruction {
  const amount = assertU64(p.amount);
  const [vault] = findVaultAddress(p.programId, p.user);
  const [authority] = findVaultAuthorityAddress(p.programId);
  return ix(
    p.programId,
    [
      meta(p.user, true, true),
      meta(vault, false, true),
      meta(p.userTokenAccount, false, true),
      meta(p.vaultTokenAccount, false, true),
      meta(authority, false, false),
      meta(TOKEN_PROGRAM_ID, false, false),
    ],
    data(name, (w) => w.u64(amount)),
  );
}

/** deposit(amount): user's token account → vault ATA, signed by the user. */
export function depositIx(p: TokenFlowParams): TransactionInstruction {
  return tokenFlowIx("deposit", p);
}

/** withdraw(amount): vault ATA → user's token account, signed by the vault PDA. */
export function withdrawIx(p: TokenFlowParams): TransactionInstruction {
  return tokenFlowIx("withdraw", p);
}

export interface LockParams {
  programId: PublicKey;
  authority: PublicKey;
  vault: PublicKey;
  amount: bigint;
}

function lockIx(name: "lockCollateral" | "unlockCollateral", p: LockParams): TransactionInstruction {
  const amount = assertU64(p.amount);
  const [authority] = findVaultAuthorityAddress(p.programId);
  return ix(
    p.programId,
    [meta(p.authority, true, false), meta(p.vault, false, true), meta(authority, false, false)],
    data(name, (w) => w.u64(amount)),
  );
}

/** lock_collateral(amount): moves available → locked; any signer is accepted (spec §8.1). */
export function lockCollateralIx(p: LockParams): TransactionInstruction {
  return lockIx("lockCollateral", p);
}

/** unlock_collateral(amount): moves locked → available; any signer is accepted (spec §8.1). */
export function unlockCollateralIx(p: LockParams): TransactionInstruction {
  return lockIx("unlockCollateral", p);
}

export interface TransferParams {
  programId: PublicKey;
  authority: PublicKey;
  fromVault: PublicKey;
  fromTokenAccount: PublicKey;
  toVault: PublicKey;
  toTokenAccount: PublicKey;
  amount: bigint;
  reason: TransferReason;
}

/** transfer_collateral(amount, reason): vault → vault, tokens move between the two vault ATAs. */
export function transferCollateralIx(p: TransferParams): TransactionInstruction {
  const amount = assertU64(p.amount);
  const reason = transferReasonIndex(p.reason);
  const [authority] = findVaultAuthorityAddress(p.programId);
  return ix(
    p.programId,
    [
      meta(p.authority, true, false),
      meta(p.fromVault, false, true),
      meta(p.fromTokenAccount, false, true),
      meta(p.toVault, false, true),
      meta(p.toTokenAccount, false, true),
      meta(authority, false, false),
      meta(TOKEN_PROGRAM_ID, false, false),
    ],
    data("transferCollateral", (w) => w.u64(amount).u8(reason)),
  );
}
