/** Decoding of vault-program instruction data + account lists (ingestion and relay vetting). */
import type { PublicKey } from "@solana/web3.js";
import { BorshError, BorshReader } from "./borsh.ts";
import { hasDiscriminator, INSTRUCTION_DISCRIMINATORS, type TransferReason } from "./constants.ts";

type Accounts<K extends string> = { [P in K]: PublicKey };

export type DecodedVaultInstruction =
  | {
      name: "initializeVault";
      args: Record<string, never>;
      accounts: Accounts<
        | "user"
        | "vault"
        | "usdtMint"
        | "vaultTokenAccount"
        | "systemProgram"
        | "tokenProgram"
        | "associatedTokenProgram"
      >;
    }
  | {
      name: "initializeVaultAuthority";
      args: Record<string, never>;
      accounts: Accounts<"admin" | "vaultAuthority" | "systemProgram">;
    }
  | {
      name: "addAuthorizedProgram" | "removeAuthorizedProgram";
      args: { programId: PublicKey };
      accounts: Accounts<"admin" | "vaultAuthority">;
    }
  | { name: "setPaused"; args: { isPaused: boolean }; accounts: Accounts<"admin" | "vaultAuthority"> }
  | {
      name: "deposit" | "withdraw";
      args: { amount: bigint };
      accounts: Accounts<
        "user" | "vault" | "userTokenAccount" | "vaultTokenAccount" | "vaultAuthority" | "tokenProgram"
      >;
    }
  | {
      name: "lockCollateral" | "unlockCollateral";
      args: { amount: bigint };
      accounts: Accounts<"authority" | "vault" | "vaultAuthority">;
    }
  | {
      name: "transferCollateral";
      args: { amount: bigint; reason: TransferReason };
      accounts: Accounts<
        | "authority"
        | "fromVault"
        | "fromTokenAccount"
        | "toVault"
        | "toTokenAccount"
        | "vaultAuthority"
        | "tokenProgram"
      >;
    };

export type VaultInstructionDecodedName = DecodedVaultInstruction["name"];

/** Account names of each instruction, in the order the program reads them (spec §4). */
export const INSTRUCTION_ACCOUNT_NAMES = {
  initializeVault: [
    "user",
    "vault",
    "usdtMint",
    "vaultTokenAccount",
    "systemProgram",
    "tokenProgram",
    "associatedTokenProgram",
  ],
  initializeVaultAuthority: ["admin", "vaultAuthority", "systemProgram"],
  addAuthorizedProgram: ["admin", "vaultAuthority"],
  removeAuthorizedProgram: ["admin", "vaultAuthority"],
  setPaused: ["admin", "vaultAuthority"],
  deposit: ["user", "vault", "userTokenAccount", "vaultTokenAccount", "vaultAuthority", "tokenProgram"],
  withdraw: ["user", "vault", "userTokenAccount", "vaultTokenAccount", "vaultAuthority", "tokenProgram"],
  lockCollateral: ["authority", "vault", "vaultAuthority"],
  unlockCollateral: ["authority", "vault", "vaultAuthority"],
  transferCollateral: [
    "authority",
    "fromVault",
    "fromTokenAccount",
    "toVault",
    "toTokenAccount",
    "vaultAuthority",
    "tokenProgram",
  ],
} as const satisfies Record<keyof typeof INSTRUCTION_DISCRIMINATORS, readonly string[]>;

/** Which instruction `data` addresses, by its 8-byte discriminator; null when none matches. */
export function identifyVaultInstruction(data: Uint8Array): VaultInstructionDecodedName | null {
  for (const [name, disc] of Object.entries(INSTRUCTION_DISCRIMINATORS)) {
    if (hasDiscriminator(data, disc)) return name as VaultInstructionDecodedName;
  }
  return null;
}

/**
 * Decodes the Borsh args following the discriminator, as the program does (trailing bytes are ignored, like
 * Anchor's `deserialize`). Throws BorshError when they do not deserialize.
 */
export function decodeInstructionArgs(name: VaultInstructionDecodedName, data: Uint8Array): Record<string, unknown> {
  const r = new BorshReader(data, 8);
  switch (name) {
    case "addAuthorizedProgram":
    case "removeAuthorizedProgram":
      return { programId: r.pubkey() };
    case "setPaused":
      return { isPaused: r.bool() };
    case "deposit":
    case "withdraw":
    case "lockCollateral":
    case "unlockCollateral":
      return { amount: r.u64() };
    case "transferCollateral":
      return { amount: r.u64(), reason: r.reason() };
    default:
      return {};
  }
}

/**
 * Decodes a vault instruction: null for an unknown discriminator, args that do not deserialize (short data, bool
 * byte > 1, reason > 4) or fewer accounts than the instruction needs. Extra accounts are ignored, as on chain.
 */
export function decodeVaultInstruction(data: Uint8Array, accounts: PublicKey[]): DecodedVaultInstruction | null {
  const name = identifyVaultInstruction(data);
  if (name === null) return null;
  let args: Record<string, unknown>;
  try {
    args = decodeInstructionArgs(name, data);
  } catch (e) {
    if (e instanceof BorshError) return null;
    throw e;
  }
  const names = INSTRUCTION_ACCOUNT_NAMES[name];
  if (accounts.length < names.length) return null;
  const named: Record<string, PublicKey> = {};
  names.forEach((n, i) => {
    named[n] = accounts[i]!;
  });
  return { name, args, accounts: named } as DecodedVaultInstruction;
}
