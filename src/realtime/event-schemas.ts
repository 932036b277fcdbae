/**
 * The WebSocket contract's schemas (wire form): each event's `data`, with u64 values as exact JSON integers. Only zod
 * here, so frontends and the typed client can import these types without the backend's. Built by realtime/events.ts.
 */
import { z } from "zod";

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

/** The payload of one event on the wire (what a client parses). */
export type EventPayload<N extends OwnerEventName> = z.infer<(typeof EVENT_SCHEMAS)[N]>;

/** What a socket receives: the envelope of every stored event. */
export interface SocketMessage<N extends OwnerEventName = OwnerEventName> {
  event: N;
  data: EventPayload<N>;
  timestamp: string;
  seq: number;
  /** The chain slot the event reflects; null for alerts and expiries. */
  slot: number | null;
  commitment: "confirmed" | "finalized" | null;
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
      "Messages on GET /ws/{owner}: { event, data, timestamp, seq, slot, commitment }. `data` follows the schema of `event`; u64 values are exact JSON integer literals. Control messages (snapshot, resync, pong) are described in the README.",
    envelope: {
      type: "object",
      required: ["event", "data", "timestamp", "seq", "slot", "commitment"],
      properties: {
        event: { enum: Object.keys(EVENT_SCHEMAS) },
        data: { type: "object" },
        timestamp: { type: "string", format: "date-time" },
        seq: { type: "integer", minimum: 1 },
        slot: { type: ["integer", "null"], minimum: 0 },
        commitment: { enum: ["confirmed", "finalized", null] },
      },
    },
    events,
  };
}
