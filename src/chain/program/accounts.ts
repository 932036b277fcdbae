/** Account codec: CollateralVault (121 bytes) and VaultAuthority (374 bytes), spec §2. */
import type { PublicKey } from "@solana/web3.js";
import { BorshError, BorshReader, BorshWriter, type Layout, readLayout, writeLayout } from "./borsh.ts";
import {
  ACCOUNT_DISCRIMINATORS,
  COLLATERAL_VAULT_SIZE,
  hasDiscriminator,
  MAX_AUTHORIZED_PROGRAMS,
  VAULT_AUTHORITY_SIZE,
} from "./constants.ts";

export interface CollateralVault {
  owner: PublicKey;
  tokenAccount: PublicKey;
  totalBalance: bigint;
  lockedBalance: bigint;
  availableBalance: bigint;
  totalDeposited: bigint;
  totalWithdrawn: bigint;
  createdAt: bigint;
  bump: number;
}

export interface VaultAuthority {
  admin: PublicKey;
  authorizedPrograms: PublicKey[];
  bump: number;
  isPaused: boolean;
  lastUpdated: bigint;
}

export type ProgramAccount =
  | { type: "CollateralVault"; account: CollateralVault }
  | { type: "VaultAuthority"; account: VaultAuthority };

export type AccountDecodeErrorReason =
  | "wrong-owner"
  | "too-short"
  | "discriminator-mismatch"
  | "wrong-size"
  | "invalid-data"
  | "unknown-account";

/** Raised when bytes are not a valid account of the expected type; `reason` says why. */
export class AccountDecodeError extends Error {
  override name = "AccountDecodeError";
  readonly reason: AccountDecodeErrorReason;
  constructor(reason: AccountDecodeErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Borsh field order of CollateralVault (abs offsets 8, 40, 72, 80, 88, 96, 104, 112, 120). */
export const COLLATERAL_VAULT_LAYOUT: Layout = [
  ["owner", "pubkey"],
  ["tokenAccount", "pubkey"],
  ["totalBalance", "u64"],
  ["lockedBalance", "u64"],
  ["availableBalance", "u64"],
  ["totalDeposited", "u64"],
  ["totalWithdrawn", "u64"],
  ["createdAt", "i64"],
  ["bump", "u8"],
];

/** Borsh field order of VaultAuthority; everything after the Vec moves with its length. */
export const VAULT_AUTHORITY_LAYOUT: Layout = [
  ["admin", "pubkey"],
  ["authorizedPrograms", "vecPubkey"],
  ["bump", "u8"],
  ["isPaused", "bool"],
  ["lastUpdated", "i64"],
];

function decodeChecked(
  data: Uint8Array,
  typeName: keyof typeof ACCOUNT_DISCRIMINATORS,
  size: number,
  layout: Layout,
): Record<string, unknown> {
  if (data.length < 8) throw new AccountDecodeError("too-short", `${typeName}: ${data.length} bytes, no discriminator`);
  if (!hasDiscriminator(data, ACCOUNT_DISCRIMINATORS[typeName])) {
    throw new AccountDecodeError("discriminator-mismatch", `${typeName}: discriminator mismatch`);
  }
  if (data.length !== size) {
    throw new AccountDecodeError("wrong-size", `${typeName}: expected ${size} bytes, got ${data.length}`);
  }
  try {
    return readLayout(new BorshReader(data, 8), layout, MAX_AUTHORIZED_PROGRAMS);
  } catch (e) {
    if (e instanceof BorshError) throw new AccountDecodeError("invalid-data", `${typeName}: ${e.message}`);
    throw e;
  }
}

/** Decodes a CollateralVault account (exactly 121 bytes). */
export function decodeCollateralVault(data: Uint8Array): CollateralVault {
  return decodeChecked(
    data,
    "CollateralVault",
    COLLATERAL_VAULT_SIZE,
    COLLATERAL_VAULT_LAYOUT,
  ) as unknown as CollateralVault;
}

/** Decodes a VaultAuthority account (exactly 374 bytes; n ≤ 10; the unused tail is ignored). */
export function decodeVaultAuthority(data: Uint8Array): VaultAuthority {
  return decodeChecked(
    data,
    "VaultAuthority",
    VAULT_AUTHORITY_SIZE,
    VAULT_AUTHORITY_LAYOUT,
  ) as unknown as VaultAuthority;
}

function encodePadded(disc: readonly number[], layout: Layout, value: object, size: number): Uint8Array {
  const body = writeLayout(new BorshWriter().bytes(disc), layout, value as Record<string, unknown>).toBytes();
  if (body.length > size) throw new RangeError(`encoded account is ${body.length} bytes, more than ${size}`);
  const out = new Uint8Array(size);
  out.set(body);
  return out;
}

/** Encodes a CollateralVault to its 121-byte account data. */
export function encodeCollateralVault(v: CollateralVault): Uint8Array {
  return encodePadded(ACCOUNT_DISCRIMINATORS.CollateralVault, COLLATERAL_VAULT_LAYOUT, v, COLLATERAL_VAULT_SIZE);
}

/** Encodes a VaultAuthority to its 374-byte account data (zero tail after the Borsh body). */
export function encodeVaultAuthority(a: VaultAuthority): Uint8Array {
  if (a.authorizedPrograms.length > MAX_AUTHORIZED_PROGRAMS) {
    throw new RangeError(`at most ${MAX_AUTHORIZED_PROGRAMS} authorized programs`);
  }
  return encodePadded(ACCOUNT_DISCRIMINATORS.VaultAuthority, VAULT_AUTHORITY_LAYOUT, a, VAULT_AUTHORITY_SIZE);
}

/** Decodes any account of the vault program after checking it is owned by `programId`. */
export function decodeProgramAccount(
  info: { owner: PublicKey; data: Uint8Array },
  programId: PublicKey,
): ProgramAccount {
  if (!info.owner.equals(programId)) {
    throw new AccountDecodeError(
      "wrong-owner",
      `account owned by ${info.owner.toBase58()}, not ${programId.toBase58()}`,
    );
  }
  if (hasDiscriminator(info.data, ACCOUNT_DISCRIMINATORS.CollateralVault)) {
    return { type: "CollateralVault", account: decodeCollateralVault(info.data) };
  }
  if (hasDiscriminator(info.data, ACCOUNT_DISCRIMINATORS.VaultAuthority)) {
    return { type: "VaultAuthority", account: decodeVaultAuthority(info.data) };
  }
  if (info.data.length < 8) throw new AccountDecodeError("too-short", "account has no discriminator");
  throw new AccountDecodeError("unknown-account", "unknown account discriminator");
}
