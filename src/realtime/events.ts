/**
 * The WebSocket contract: every event pushed to an owner's sockets, its payload typed once and built by one function
 * per event. The schemas describe the wire form — amounts, balances and slots are exact JSON integer literals, as in
 * the REST responses (u64 values travel as bigint inside the backend and are written by `toJson`). The fields the
 * original service's frontends read come first in each payload; the others are this backend's additions.
 *
 * The schemas live in event-schemas.ts; GET /events/schema.json publishes them as JSON Schema.
 */

import type { TransactionType } from "../db/schema.ts";
import type { Backing } from "../vault/backing.ts";
import type { VaultState } from "../vault/vault-state.ts";
import type { EventPayload, OwnerEventName } from "./event-schemas.ts";

/** A payload as the backend holds it before writing: the wire's integers may be bigint here. */
type Held<T> = {
  [K in keyof T]: T[K] extends number ? number | bigint : T[K] extends number | null ? number | bigint | null : T[K];
};

/** One event before the owner's hub stores it (assigning its seq). */
export type OwnerEvent = { [N in OwnerEventName]: { event: N; data: Held<EventPayload<N>> } }[OwnerEventName];

function backingFields(b: Backing) {
  return {
    tokenAccountBalance: b.tokenAccountBalance,
    backedBalance: b.backedBalance,
    unbackedBalance: b.unbackedBalance,
    flags: b.flags,
  };
}

/** balance_update from a vault as ingestion left it. */
export function balanceUpdate(v: VaultState): OwnerEvent {
  return {
    event: "balance_update",
    data: {
      owner: v.owner,
      totalBalance: v.totalBalance,
      lockedBalance: v.lockedBalance,
      availableBalance: v.availableBalance,
      vaultAddress: v.address,
      totalDeposited: v.totalDeposited,
      totalWithdrawn: v.totalWithdrawn,
      ...backingFields(v.backing),
      mint: v.mint,
      slot: v.slot,
      source: "ingestion",
    },
  };
}

/** balance_update after reconciliation corrected the cache from the chain. */
export function reconciledBalanceUpdate(input: {
  owner: string;
  vaultAddress: string;
  totalBalance: bigint;
  lockedBalance: bigint;
  availableBalance: bigint;
  totalDeposited: bigint | null;
  totalWithdrawn: bigint | null;
  backing: Backing;
  mint: string | null;
  slot: bigint | number;
}): OwnerEvent {
  return {
    event: "balance_update",
    data: {
      owner: input.owner,
      totalBalance: input.totalBalance,
      lockedBalance: input.lockedBalance,
      availableBalance: input.availableBalance,
      vaultAddress: input.vaultAddress,
      totalDeposited: input.totalDeposited,
      totalWithdrawn: input.totalWithdrawn,
      ...backingFields(input.backing),
      mint: input.mint,
      slot: input.slot,
      source: "reconciliation",
    },
  };
}

/** The landed transaction as ingestion read it: what every event of one committed transaction shares. */
export interface LandedTx {
  signature: string;
  slot: bigint;
  blockTime: Date | null;
}

/** The fields of a stored history row that events carry (ingestion's StoredRow has them). */
export interface EventRow {
  id: string;
  owner: string;
  type: TransactionType;
  amount: bigint | null;
  eventIndex: number;
  counterparty: string | null;
  reason: string | null;
  requestId: string | null;
  positionId: string | null;
}

/** transaction_confirmed for one stored history row. */
export function transactionConfirmed(tx: LandedTx, row: EventRow): OwnerEvent {
  return {
    event: "transaction_confirmed",
    data: {
      transactionId: row.id,
      transactionType: row.type,
      amount: row.amount ?? 0n,
      signature: tx.signature,
      owner: row.owner,
      requestId: row.requestId,
      positionId: row.positionId,
      eventIndex: row.eventIndex,
      slot: tx.slot,
      blockTime: tx.blockTime?.toISOString() ?? null,
      counterparty: row.counterparty,
      reason: row.reason,
      status: "confirmed",
      type: row.type,
    },
  };
}

/** collateral_locked / collateral_unlocked with the balances the program's event reports after it. */
export function collateralMoved(
  kind: "locked" | "unlocked",
  tx: LandedTx,
  row: EventRow,
  event: { vault: string; amount: bigint; lockedBalance: bigint; availableBalance: bigint; authority: string },
): OwnerEvent {
  return {
    event: kind === "locked" ? "collateral_locked" : "collateral_unlocked",
    data: {
      owner: row.owner,
      amount: event.amount,
      positionId: row.positionId,
      lockedBalance: event.lockedBalance,
      availableBalance: event.availableBalance,
      transactionId: row.id,
      signature: tx.signature,
      slot: tx.slot,
      vault: event.vault,
      authority: event.authority,
    },
  };
}

/** collateral_transferred, told to each side. */
export function collateralTransferred(
  tx: LandedTx,
  row: EventRow,
  event: { amount: bigint; reason: string | null; fromVault: string; toVault: string; authority: string },
): OwnerEvent {
  return {
    event: "collateral_transferred",
    data: {
      owner: row.owner,
      amount: event.amount,
      direction: row.type === "transfer_out" ? "out" : "in",
      counterparty: row.counterparty,
      reason: event.reason,
      fromVault: event.fromVault,
      toVault: event.toVault,
      authority: event.authority,
      transactionId: row.id,
      signature: tx.signature,
      slot: tx.slot,
    },
  };
}

/** transaction_failed for an owner the failed transaction touched. */
export function transactionFailed(
  tx: LandedTx,
  owner: string,
  transactionId: string | null,
  error: { code: number | null; name: string | null; message: string | null; instructionIndex: number | null },
): OwnerEvent {
  return { event: "transaction_failed", data: { transactionId, owner, signature: tx.signature, slot: tx.slot, error } };
}

/** transaction_finalized for a history row that reached finality. */
export function transactionFinalized(row: {
  id: string;
  transactionType: string;
  vaultOwner: string;
  amount: bigint | null;
  signature: string | null;
  eventIndex: number | null;
  slot: bigint | null;
  positionId: string | null;
}): OwnerEvent {
  return {
    event: "transaction_finalized",
    data: {
      transactionId: row.id,
      transactionType: row.transactionType,
      amount: row.amount ?? 0n,
      signature: row.signature,
      owner: row.vaultOwner,
      positionId: row.positionId,
      eventIndex: row.eventIndex,
      slot: row.slot,
      status: "finalized",
      type: row.transactionType,
    },
  };
}

/** transaction_expired for a request whose blockhash expired without it landing. */
export function transactionExpired(row: { id: string; transactionType: string; vaultOwner: string }): OwnerEvent {
  return {
    event: "transaction_expired",
    data: {
      transactionId: row.id,
      transactionType: row.transactionType,
      owner: row.vaultOwner,
      status: "expired",
      type: row.transactionType,
    },
  };
}

/** alert, told to an owner it concerns. */
export function alertEvent(data: {
  id: string;
  kind: string;
  severity: string;
  message: string;
  owner: string;
  count?: number;
  details: unknown;
}): OwnerEvent {
  return { event: "alert", data };
}

export {
  EVENT_SCHEMAS,
  type EventPayload,
  eventsJsonSchema,
  type OwnerEventName,
  type SocketMessage,
} from "./event-schemas.ts";
