/**
 * The WebSocket contract: every event pushed to an owner's sockets, its payload typed once and built by one function
 * per event. The schemas describe the wire form — amounts, balances and slots are exact JSON integer literals, as in
 * the REST responses (u64 values travel as bigint inside the backend and are written by `toJson`). The fields the
 * original service's frontends read come first in each payload; the others are this backend's additions.
 *
 * GET /ws/events.schema.json publishes these schemas as JSON Schema (generated from the same zod objects).
 */
import { z } from "zod";
import type { StoredRow } from "../ingest/store.ts";
import type { VaultState } from "../ingest/vault-state.ts";
import type { Backing } from "../vault/backing.ts";

/** A u64 on the wire: a JSON integer literal (may exceed 2^53; parse with a bigint-aware parser if you need it exact). */
const u64 = z.int().min(0).meta({ description: "u64 as an exact JSON integer literal" });
const pubkey = z.string().meta({ description: "base58 public key" });
const nullable = <T extends z.ZodType>(t: T) => t.nullable();

const backingShape = {
  tokenAccountBalance: nullable(u64),
  backedBalance: u64,
  unbackedBalance: u64,
  flags: z.array(z.string()),
};

export const balanceUpdateSchema = z.object({
  owner: pubkey,
  totalBalance: u64,
  lockedBalance: u64,
  availableBalance: u64,
  vaultAddress: pubkey,
  totalDeposited: nullable(u64),
  totalWithdrawn: nullable(u64),
  ...backingShape,
  mint: nullable(z.string()),
  slot: u64,
  /** "ingestion" (a committed program transaction) or "reconciliation" (the cache was corrected from the chain). */
  source: z.enum(["ingestion", "reconciliation"]),
});

export const transactionConfirmedSchema = z.object({
  transactionId: z.string(),
  transactionType: z.string(),
  /** 0 for a transaction that moves no amount (initialize_vault, admin instructions). */
  amount: u64,
  signature: z.string(),
  owner: pubkey,
  /** The request this transaction carried out (a build or relay of this backend), or null. */
  requestId: nullable(z.string()),
  positionId: nullable(z.string()),
  eventIndex: z.int(),
  slot: u64,
  blockTime: nullable(z.string()),
  counterparty: nullable(z.string()),
  reason: nullable(z.string()),
  status: z.literal("confirmed"),
  /** Deprecated alias of transactionType (this backend's earlier name). */
  type: z.string(),
});

export const collateralSchema = z.object({
  owner: pubkey,
  amount: u64,
  /** The position label given to the privileged builder; null for a lock or unlock the backend did not build. */
  positionId: nullable(z.string()),
  lockedBalance: u64,
  availableBalance: u64,
  transactionId: nullable(z.string()),
  signature: z.string(),
  slot: u64,
  vault: pubkey,
  authority: pubkey,
});

export const collateralTransferredSchema = z.object({
  owner: pubkey,
  amount: u64,
  direction: z.enum(["in", "out"]),
  counterparty: nullable(z.string()),
  reason: nullable(z.string()),
  fromVault: pubkey,
  toVault: pubkey,
  authority: pubkey,
  transactionId: nullable(z.string()),
  signature: z.string(),
  slot: u64,
});

export const transactionFinalizedSchema = z.object({
  transactionId: z.string(),
  transactionType: z.string(),
  amount: u64,
  signature: nullable(z.string()),
  owner: pubkey,
  positionId: nullable(z.string()),
  eventIndex: nullable(z.int()),
  slot: nullable(u64),
  status: z.literal("finalized"),
  type: z.string(),
});

export const transactionFailedSchema = z.object({
  transactionId: nullable(z.string()),
  owner: pubkey,
  signature: z.string(),
  slot: u64,
  error: z.object({
    code: nullable(z.int()),
    name: nullable(z.string()),
    message: nullable(z.string()),
    instructionIndex: nullable(z.int()),
  }),
});

export const transactionExpiredSchema = z.object({
  transactionId: z.string(),
  transactionType: z.string(),
  owner: pubkey,
  status: z.literal("expired"),
  type: z.string(),
});

export const alertSchema = z.object({
  id: z.string(),
  kind: z.string(),
  severity: z.string(),
  message: z.string(),
  owner: pubkey,
  count: z.int().optional(),
  details: z.unknown(),
});

/** Every event's payload schema, by event name. */
export const EVENT_SCHEMAS = {
  balance_update: balanceUpdateSchema,
  transaction_confirmed: transactionConfirmedSchema,
  transaction_finalized: transactionFinalizedSchema,
  transaction_failed: transactionFailedSchema,
  transaction_expired: transactionExpiredSchema,
  collateral_locked: collateralSchema,
  collateral_unlocked: collateralSchema,
  collateral_transferred: collateralTransferredSchema,
  alert: alertSchema,
} as const;

export type OwnerEventName = keyof typeof EVENT_SCHEMAS;

/** A payload as the backend holds it before writing: the wire's integers may be bigint here. */
type Held<T> = {
  [K in keyof T]: T[K] extends number ? number | bigint : T[K] extends number | null ? number | bigint | null : T[K];
};

/** The payload of one event on the wire (what a client parses). */
export type EventPayload<N extends OwnerEventName> = z.infer<(typeof EVENT_SCHEMAS)[N]>;

/** One event before the owner's hub stores it (assigning its seq). */
export type OwnerEvent = { [N in OwnerEventName]: { event: N; data: Held<EventPayload<N>> } }[OwnerEventName];

/** What a socket receives: the envelope of every stored event. */
export interface SocketMessage<N extends OwnerEventName = OwnerEventName> {
  event: N;
  data: EventPayload<N>;
  timestamp: string;
  seq: number;
}

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

/** transaction_confirmed for one stored history row. */
export function transactionConfirmed(tx: LandedTx, row: StoredRow): OwnerEvent {
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
  row: StoredRow,
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
  row: StoredRow,
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

/** The contract as JSON Schema: one schema per event payload, and the envelope. */
export function eventsJsonSchema(): Record<string, unknown> {
  const events = Object.fromEntries(
    Object.entries(EVENT_SCHEMAS).map(([name, schema]) => [name, z.toJSONSchema(schema, { io: "output" })]),
  );
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "vault-backend WebSocket events",
    description:
      "Messages on GET /ws/{owner}: { event, data, timestamp, seq }. `data` follows the schema of `event`; u64 values are exact JSON integer literals. Control messages (snapshot, resync, pong) are described in the README.",
    envelope: {
      type: "object",
      required: ["event", "data", "timestamp", "seq"],
      properties: {
        event: { enum: Object.keys(EVENT_SCHEMAS) },
        data: { type: "object" },
        timestamp: { type: "string", format: "date-time" },
        seq: { type: "integer", minimum: 1 },
      },
    },
    events,
  };
}
