/**
 * Constants of the collateral-vault program (shared/vault-program.md). Discriminators are hard-coded from the spec
 * (sha256 of the preimage, first 8 bytes) so nothing hashes at runtime; the codec test re-derives them.
 */
import { PublicKey } from "@solana/web3.js";

/** Program id declared in the program's `declare_id!` (configuration may override it). */
export const DEFAULT_VAULT_PROGRAM_ID = new PublicKey("6DXunQxjcEx6V978DDho6A4GoKVk39HrAVtjtLywSy4Q");

export const SYSTEM_PROGRAM_ID = new PublicKey("11111111111111111111111111111111");
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const ASSOCIATED_TOKEN_PROGRAM_ID = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
export const COMPUTE_BUDGET_PROGRAM_ID = new PublicKey("ComputeBudget111111111111111111111111111111");
/** Lighthouse: assertion instructions Phantom and Solflare append to mainnet transactions before signing. */
export const LIGHTHOUSE_PROGRAM_ID = new PublicKey("L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95");

/** PDA seed prefixes (spec §3). */
export const VAULT_SEED = new TextEncoder().encode("vault");
export const VAULT_AUTHORITY_SEED = new TextEncoder().encode("vault_authority");

/** Allocated account sizes (spec §2). */
export const COLLATERAL_VAULT_SIZE = 121;
export const VAULT_AUTHORITY_SIZE = 374;
export const MAX_AUTHORIZED_PROGRAMS = 10;

export const U64_MAX = (1n << 64n) - 1n;

/** Instruction discriminators, sha256("global:<snake_name>")[0..8] (spec §4). */
export const INSTRUCTION_DISCRIMINATORS = {
  initializeVault: [48, 191, 163, 44, 71, 129, 63, 164],
  initializeVaultAuthority: [47, 125, 11, 209, 248, 240, 52, 77],
  addAuthorizedProgram: [80, 106, 127, 205, 217, 53, 202, 202],
  removeAuthorizedProgram: [70, 182, 172, 234, 229, 156, 205, 245],
  setPaused: [91, 60, 125, 192, 176, 225, 166, 218],
  deposit: [242, 35, 198, 137, 82, 225, 242, 182],
  withdraw: [183, 18, 70, 156, 148, 109, 161, 34],
  lockCollateral: [161, 216, 135, 122, 12, 104, 211, 101],
  unlockCollateral: [167, 213, 221, 147, 129, 209, 132, 190],
  transferCollateral: [157, 163, 63, 27, 242, 72, 251, 97],
} as const satisfies Record<string, readonly number[]>;

export type VaultInstructionName = keyof typeof INSTRUCTION_DISCRIMINATORS;

/** Account discriminators, sha256("account:<Name>")[0..8] (spec §2). */
export const ACCOUNT_DISCRIMINATORS = {
  CollateralVault: [19, 189, 95, 155, 100, 9, 159, 145],
  VaultAuthority: [132, 34, 187, 202, 202, 195, 211, 53],
} as const satisfies Record<string, readonly number[]>;

/** Event discriminators, sha256("event:<Name>")[0..8] (spec §6). */
export const EVENT_DISCRIMINATORS = {
  VaultInitializedEvent: [203, 214, 91, 5, 185, 248, 192, 149],
  DepositEvent: [120, 248, 61, 83, 31, 142, 107, 144],
  WithdrawEvent: [22, 9, 133, 26, 160, 44, 71, 192],
  LockCollateralEvent: [234, 41, 46, 220, 88, 133, 77, 47],
  UnlockCollateralEvent: [24, 255, 126, 102, 107, 66, 17, 55],
  TransferCollateralEvent: [191, 8, 62, 136, 156, 177, 165, 130],
  VaultPausedEvent: [75, 189, 120, 167, 117, 229, 155, 60],
} as const satisfies Record<string, readonly number[]>;

export type VaultEventName = keyof typeof EVENT_DISCRIMINATORS;

/** TransferReason variants in Borsh index order (spec §4: 0 Settlement … 4 Other). */
export const TRANSFER_REASONS = ["settlement", "liquidation", "feeCollection", "insuranceFund", "other"] as const;

export type TransferReason = (typeof TRANSFER_REASONS)[number];

/** Borsh variant index of a TransferReason name. */
export function transferReasonIndex(reason: TransferReason): number {
  const index = TRANSFER_REASONS.indexOf(reason);
  if (index < 0) throw new RangeError(`unknown transfer reason: ${String(reason)}`);
  return index;
}

/** True when the first 8 bytes of `data` equal `disc`. */
export function hasDiscriminator(data: Uint8Array, disc: readonly number[]): boolean {
  if (data.length < disc.length) return false;
  return disc.every((b, i) => data[i] === b);
}
