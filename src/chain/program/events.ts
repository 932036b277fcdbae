/** Event codec: the 7 `emit!` events of the vault program (spec §6), discriminator ‖ Borsh body. */
import type { PublicKey } from "@solana/web3.js";
import { BorshError, BorshReader, BorshWriter, type Layout, readLayout, writeLayout } from "./borsh.ts";
import { EVENT_DISCRIMINATORS, hasDiscriminator, type TransferReason, type VaultEventName } from "./constants.ts";

export interface VaultInitializedEventData {
  owner: PublicKey;
  vault: PublicKey;
  tokenAccount: PublicKey;
  timestamp: bigint;
}
export interface DepositEventData {
  user: PublicKey;
  vault: PublicKey;
  amount: bigint;
  /** Vault total after the deposit. */
  newBalance: bigint;
  timestamp: bigint;
}
export interface WithdrawEventData {
  user: PublicKey;
  vault: PublicKey;
  amount: bigint;
  /** Vault **total** after the withdrawal (not available). */
  remainingBalance: bigint;
  timestamp: bigint;
}
export interface LockCollateralEventData {
  /** vault.owner */
  user: PublicKey;
  vault: PublicKey;
  amount: bigint;
  newLockedBalance: bigint;
  newAvailableBalance: bigint;
  lockedBy: PublicKey;
  timestamp: bigint;
}
export interface UnlockCollateralEventData {
  user: PublicKey;
  vault: PublicKey;
  amount: bigint;
  newLockedBalance: bigint;
  newAvailableBalance: bigint;
  unlockedBy: PublicKey;
  timestamp: bigint;
}
export interface TransferCollateralEventData {
  /** Vault PDAs, not owners. */
  fromVault: PublicKey;
  toVault: PublicKey;
  amount: bigint;
  transferredBy: PublicKey;
  reason: TransferReason;
  timestamp: bigint;
}
export interface VaultPausedEventData {
  isPaused: boolean;
  admin: PublicKey;
  timestamp: bigint;
}

export type VaultEvent =
  | { name: "VaultInitializedEvent"; data: VaultInitializedEventData }
  | { name: "DepositEvent"; data: DepositEventData }
  | { name: "WithdrawEvent"; data: WithdrawEventData }
  | { name: "LockCollateralEvent"; data: LockCollateralEventData }
  | { name: "UnlockCollateralEvent"; data: UnlockCollateralEventData }
  | { name: "TransferCollateralEvent"; data: TransferCollateralEventData }
  | { name: "VaultPausedEvent"; data: VaultPausedEventData };

const lockLayout = (by: string): Layout => [
  ["user", "pubkey"],
  ["vault", "pubkey"],
  ["amount", "u64"],
  ["newLockedBalance", "u64"],
  ["newAvailableBalance", "u64"],
  [by, "pubkey"],
  ["timestamp", "i64"],
];

/** Borsh field order of every event body. */
export const EVENT_LAYOUTS: Record<VaultEventName, Layout> = {
  VaultInitializedEvent: [
    ["owner", "pubkey"],
    ["vault", "pubkey"],
    ["tokenAccount", "pubkey"],
    ["timestamp", "i64"],
  ],
  DepositEvent: [
    ["user", "pubkey"],
    ["vault", "pubkey"],
    ["amount", "u64"],
    ["newBalance", "u64"],
    ["timestamp", "i64"],
  ],
  WithdrawEvent: [
    ["user", "pubkey"],
    ["vault", "pubkey"],
    ["amount", "u64"],
    ["remainingBalance", "u64"],
    ["timestamp", "i64"],
  ],
  LockCollateralEvent: lockLayout("lockedBy"),
  UnlockCollateralEvent: lockLayout("unlockedBy"),
  TransferCollateralEvent: [
    ["fromVault", "pubkey"],
    ["toVault", "pubkey"],
    ["amount", "u64"],
    ["transferredBy", "pubkey"],
    ["reason", "reason"],
    ["timestamp", "i64"],
  ],
  VaultPausedEvent: [
    ["isPaused", "bool"],
    ["admin", "pubkey"],
    ["timestamp", "i64"],
  ],
};

/** Encodes an event as `emit!` logs it: 8-byte discriminator ‖ Borsh body. */
export function encodeEvent(e: VaultEvent): Uint8Array {
  const w = new BorshWriter().bytes(EVENT_DISCRIMINATORS[e.name]);
  return writeLayout(w, EVENT_LAYOUTS[e.name], e.data as unknown as Record<string, unknown>).toBytes();
}

/** Decodes event bytes; null for an unknown discriminator or a body that does not deserialize. */
export function decodeEvent(bytes: Uint8Array): VaultEvent | null {
  for (const [name, disc] of Object.entries(EVENT_DISCRIMINATORS) as [VaultEventName, readonly number[]][]) {
    if (!hasDiscriminator(bytes, disc)) continue;
    try {
      const data = readLayout(new BorshReader(bytes, 8), EVENT_LAYOUTS[name]);
      return { name, data } as unknown as VaultEvent;
    } catch (err) {
      if (err instanceof BorshError) return null;
      throw err;
    }
  }
  return null;
}
