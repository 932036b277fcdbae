import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import { REQUEST_STATUSES, type RequestStatus } from "./request-state.ts";
import { bigNumeric, u64 } from "./types.ts";

/** Values of `transactions.transaction_type`. */
export const TRANSACTION_TYPES = [
  "initialize",
  "deposit",
  "withdrawal",
  "lock",
  "unlock",
  "transfer_in",
  "transfer_out",
  "initialize_authority",
  "add_authorized_program",
  "remove_authorized_program",
  "set_paused",
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** Values of `transactions.status`: the request state machine's statuses (src/db/request-state.ts). */
export const TRANSACTION_STATUSES = REQUEST_STATUSES;
export type TransactionStatus = RequestStatus;

/**
 * Where a `transactions` row comes from: `build` (an API builder made it), `relay` (the relay received a vault
 * transaction the API did not build) or `chain` (ingestion saw an event no request claimed). Requests are the first
 * two; one signature belongs to at most one of them.
 */
export const TRANSACTION_ORIGINS = ["build", "relay", "chain"] as const;
export type TransactionOrigin = (typeof TRANSACTION_ORIGINS)[number];

/** A signature a client reported for a request (`{signature, transactionId}`): checked against the chain. */
export const CLAIM_STATUSES = ["unverified", "verified", "rejected"] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export const VAULT_STATUSES = ["active", "paused", "closed"] as const;
export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;
export const ALERT_STATUSES = ["open", "acknowledged", "resolved"] as const;

const inListText = (column: string, values: readonly string[]) =>
  `${column} in (${values.map((v) => `'${v}'`).join(", ")})`;
const inList = (column: string, values: readonly string[]) => sql.raw(inListText(column, values));
const u64Bounds = (column: string) => `${column} >= 0 and ${column} <= 18446744073709551615`;
const u64Range = (column: string) => sql.raw(u64Bounds(column));
const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

/** Cached vault accounts; the chain is the source of truth, `slot` says which state a row reflects. */
export const vaults = pgTable(
  "vaults",
  {
    owner: varchar("owner", { length: 64 }).primaryKey(),
    vaultAddress: varchar("vault_address", { length: 64 }).notNull().unique(),
    tokenAccount: varchar("token_account", { length: 64 }).notNull(),
    mint: varchar("mint", { length: 64 }),
    totalBalance: u64("total_balance").notNull().default(sql`0`),
    lockedBalance: u64("locked_balance").notNull().default(sql`0`),
    availableBalance: u64("available_balance").notNull().default(sql`0`),
    totalDeposited: u64("total_deposited").notNull().default(sql`0`),
    totalWithdrawn: u64("total_withdrawn").notNull().default(sql`0`),
    status: varchar("status", { length: 20 }).notNull().default("active"),
    /** `created_at` of the on-chain account (unix time written by the program). */
    chainCreatedAt: timestamp("chain_created_at", { withTimezone: true }),
    slot: bigint("slot", { mode: "bigint" }).notNull().default(sql`0`),
    /**
     * The vault token account's amount (in `mint`) at `token_slot`; null when the account is missing or not an SPL
     * token account. What backs the recorded balance (src/vault/backing.ts).
     */
    tokenAmount: u64("token_amount"),
    /** The token account is frozen by its mint's freeze authority: its tokens cannot move. */
    tokenFrozen: boolean("token_frozen").notNull().default(false),
    /** Slot of the token account read (the vault's own slot when read in the same call); null = never read. */
    tokenSlot: bigint("token_slot", { mode: "bigint" }),
    ...timestamps,
  },
  () => [
    check("vaults_total_range", u64Range("total_balance")),
    check("vaults_token_amount_range", sql.raw(`token_amount is null or (${u64Bounds("token_amount")})`)),
    check("vaults_locked_range", u64Range("locked_balance")),
    check("vaults_available_range", u64Range("available_balance")),
    check("vaults_deposited_range", u64Range("total_deposited")),
    check("vaults_withdrawn_range", u64Range("total_withdrawn")),
    check("vaults_total_is_locked_plus_available", sql`total_balance = locked_balance + available_balance`),
    check("vaults_status_valid", inList("status", VAULT_STATUSES)),
    check("vaults_slot_non_negative", sql`slot >= 0`),
  ],
);

/** One row per API request and per vault event seen on chain (a transfer gives a transfer_out and a transfer_in). */
export const transactions = pgTable(
  "transactions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    vaultOwner: varchar("vault_owner", { length: 64 }).notNull(),
    transactionType: varchar("transaction_type", { length: 32 }).notNull(),
    amount: u64("amount"),
    signature: varchar("signature", { length: 128 }),
    /** Position of the event in its transaction; with signature and type, the key that stops double counting. */
    eventIndex: integer("event_index"),
    status: varchar("status", { length: 20 }).$type<RequestStatus>().notNull().default("pending"),
    origin: varchar("origin", { length: 16 }).$type<TransactionOrigin>().notNull().default("chain"),
    /** Hex sha256 of the built message (the transaction exactly as built). */
    messageHash: varchar("message_hash", { length: 64 }),
    /** Hex sha256 of the request's vault instructions (src/vault/intent.ts): what a matching transaction must run. */
    intentHash: varchar("intent_hash", { length: 64 }),
    /** The signature a client reported for this request, until the chain proves or disproves it. */
    claimedSignature: varchar("claimed_signature", { length: 128 }),
    claimStatus: varchar("claim_status", { length: 16 }).$type<ClaimStatus>(),
    /** Why the last reported signature was not bound to this request. */
    claimReason: text("claim_reason"),
    /** Name of the API key that built a privileged request (never the key). */
    apiKeyName: varchar("api_key_name", { length: 64 }),
    /**
     * The exchange's label for the position a privileged lock/unlock was built for (1–64 printable ASCII). A label
     * only: the program's transfers drain locked funds without naming a position (§8.7), so no balance is kept per
     * position. Null for everything else, including locks the backend did not build.
     */
    positionId: varchar("position_id", { length: 64 }),
    blockhash: varchar("blockhash", { length: 64 }),
    lastValidBlockHeight: bigint("last_valid_block_height", { mode: "bigint" }),
    slot: bigint("slot", { mode: "bigint" }),
    blockTime: timestamp("block_time", { withTimezone: true }),
    counterparty: varchar("counterparty", { length: 64 }),
    reason: varchar("reason", { length: 32 }),
    errorCode: integer("error_code"),
    errorName: varchar("error_name", { length: 64 }),
    errorMessage: text("error_message"),
    details: jsonb("details"),
    ...timestamps,
  },
  (t) => [
    check("transactions_type_valid", inList("transaction_type", TRANSACTION_TYPES)),
    check("transactions_status_valid", inList("status", TRANSACTION_STATUSES)),
    check("transactions_origin_valid", inList("origin", TRANSACTION_ORIGINS)),
    check(
      "transactions_claim_status_valid",
      sql.raw(`claim_status is null or ${inListText("claim_status", CLAIM_STATUSES)}`),
    ),
    check("transactions_amount_range", sql.raw(`amount is null or (${u64Bounds("amount")})`)),
    uniqueIndex("transactions_event_key")
      .on(t.signature, t.eventIndex, t.transactionType)
      .where(sql`signature is not null and event_index is not null`),
    uniqueIndex("transactions_message_hash_key")
      .on(t.messageHash, t.transactionType)
      .where(sql`message_hash is not null`),
    index("transactions_owner_history").on(t.vaultOwner, t.createdAt.desc(), t.id.desc()),
    index("transactions_signature").on(t.signature),
    // One signature belongs to at most one request (event rows of one transaction share its signature).
    uniqueIndex("transactions_request_signature_key")
      .on(t.signature)
      .where(sql`origin <> 'chain' and signature is not null`),
    // Requests not yet bound to a transaction, by intent: what ingestion and the relay match a transaction to.
    index("transactions_unbound_intent").on(t.intentHash).where(sql`signature is null and intent_hash is not null`),
    index("transactions_open_status").on(t.status).where(sql`status in ('pending', 'submitted', 'confirmed')`),
  ],
);

/** Historical balance recordings per vault. */
export const balanceSnapshots = pgTable(
  "balance_snapshots",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    owner: varchar("owner", { length: 64 }).notNull(),
    totalBalance: u64("total_balance").notNull(),
    lockedBalance: u64("locked_balance").notNull(),
    availableBalance: u64("available_balance").notNull(),
    slot: bigint("slot", { mode: "bigint" }).notNull(),
    takenAt: timestamp("taken_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("balance_snapshots_total_range", u64Range("total_balance")),
    check("balance_snapshots_locked_range", u64Range("locked_balance")),
    check("balance_snapshots_available_range", u64Range("available_balance")),
    index("balance_snapshots_owner_time").on(t.owner, t.takenAt.desc()),
    index("balance_snapshots_time").on(t.takenAt),
  ],
);

/** Audit trail of reconciliation: one row per field that differed between cache and chain. */
export const reconciliationLogs = pgTable(
  "reconciliation_logs",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    owner: varchar("owner", { length: 64 }).notNull(),
    field: varchar("field", { length: 40 }).notNull(),
    /** The chain's value (what the cache should hold). */
    expected: bigNumeric("expected").notNull(),
    /** The cache's value before repair (or the token account amount, for token checks). */
    actual: bigNumeric("actual").notNull(),
    difference: bigNumeric("difference").notNull(),
    slot: bigint("slot", { mode: "bigint" }).notNull(),
    repaired: boolean("repaired").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("reconciliation_logs_difference", sql`difference = expected - actual`),
    index("reconciliation_logs_time").on(t.createdAt),
    index("reconciliation_logs_owner").on(t.owner, t.createdAt.desc()),
  ],
);

/** Total Value Locked history. */
export const tvlSnapshots = pgTable(
  "tvl_snapshots",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    totalValueLocked: bigNumeric("total_value_locked").notNull(),
    totalLocked: bigNumeric("total_locked").notNull(),
    totalAvailable: bigNumeric("total_available").notNull(),
    /** Sum of the vault token accounts' real amounts; differs from the recorded total after bugs §8.2 or donations. */
    tokenAccountTotal: bigNumeric("token_account_total"),
    /** Sum of the recorded totals of USDT vaults; `total_value_locked` counts only their backed part. */
    recordedTotal: bigNumeric("recorded_total"),
    activeVaults: integer("active_vaults").notNull(),
    slot: bigint("slot", { mode: "bigint" }),
    takenAt: timestamp("taken_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("tvl_snapshots_non_negative", sql`total_value_locked >= 0 and active_vaults >= 0`),
    index("tvl_snapshots_time").on(t.takenAt),
  ],
);

/** Operator alerts; `dedup_key` stops the same unresolved condition from being raised twice. */
export const alerts = pgTable(
  "alerts",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    kind: varchar("kind", { length: 48 }).notNull(),
    severity: varchar("severity", { length: 16 }).notNull(),
    owner: varchar("owner", { length: 64 }),
    dedupKey: varchar("dedup_key", { length: 256 }).notNull(),
    message: text("message").notNull(),
    details: jsonb("details"),
    status: varchar("status", { length: 16 }).notNull().default("open"),
    /** Occurrences folded into this alert (aggregated causes count every occurrence of their window). */
    count: integer("count").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** The latest occurrence folded into this alert. */
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    /** Name of the API key that acknowledged the alert (never the key). */
    acknowledgedBy: varchar("acknowledged_by", { length: 64 }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
  },
  (t) => [
    check("alerts_severity_valid", inList("severity", ALERT_SEVERITIES)),
    check("alerts_status_valid", inList("status", ALERT_STATUSES)),
    check("alerts_count_positive", sql`count >= 1`),
    uniqueIndex("alerts_unresolved_dedup").on(t.dedupKey).where(sql`status <> 'resolved'`),
    index("alerts_status_time").on(t.status, t.createdAt.desc()),
    // Retention deletes alerts resolved longest ago first.
    index("alerts_resolved_time").on(t.resolvedAt).where(sql`status = 'resolved'`),
  ],
);

/** Values of `alert_events.event`: what happened to an alert, each delivered to the alert webhooks. */
export const ALERT_EVENT_TYPES = ["raised", "acknowledged", "resolved"] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];
/** Values of `alert_deliveries.status`: merged = carried by another row's summary message (`merged_into`). */
export const ALERT_DELIVERY_STATUSES = ["pending", "sent", "merged", "failed"] as const;

/**
 * The alert outbox: one row per raise, acknowledgement and resolution, written by the same statement that changes
 * the alert, so no alert is lost if the Worker dies before delivering it. `dispatched_at` is set when the row has
 * been fanned out into `alert_deliveries` for the configured webhooks.
 */
export const alertEvents = pgTable(
  "alert_events",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    alertId: bigint("alert_id", { mode: "bigint" })
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    event: varchar("event", { length: 16 }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    dispatchedAt: timestamp("dispatched_at", { withTimezone: true }),
  },
  (t) => [
    check("alert_events_event_valid", inList("event", ALERT_EVENT_TYPES)),
    uniqueIndex("alert_events_once").on(t.alertId, t.event),
    index("alert_events_undispatched").on(t.id).where(sql`dispatched_at is null`),
    index("alert_events_time").on(t.createdAt),
  ],
);

/**
 * The delivery log: one row per alert event and webhook target (`target` names the webhook by format, host and a
 * hash, never by its URL, which is a secret), with attempts, the receiver's answer and the outcome.
 */
export const alertDeliveries = pgTable(
  "alert_deliveries",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    eventId: bigint("event_id", { mode: "bigint" })
      .notNull()
      .references(() => alertEvents.id, { onDelete: "cascade" }),
    target: varchar("target", { length: 128 }).notNull(),
    /** The alert's kind, copied for the per-kind rate cap. */
    kind: varchar("kind", { length: 48 }).notNull(),
    status: varchar("status", { length: 16 }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    /** HTTP status of the last answer (null: no answer, e.g. a timeout). */
    responseStatus: integer("response_status"),
    lastError: text("last_error"),
    /** The delivery whose summary message carried this one (status `merged`). */
    mergedInto: bigint("merged_into", { mode: "bigint" }),
    /** On a row whose message summarised a flood: how many alert events that one message covered. */
    mergedCount: integer("merged_count"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("alert_deliveries_status_valid", inList("status", ALERT_DELIVERY_STATUSES)),
    check("alert_deliveries_attempts_non_negative", sql`attempts >= 0`),
    uniqueIndex("alert_deliveries_once").on(t.eventId, t.target),
    index("alert_deliveries_pending").on(t.target, t.id).where(sql`status = 'pending'`),
    index("alert_deliveries_sent").on(t.target, t.kind, t.sentAt).where(sql`status = 'sent'`),
  ],
);

/** Stored responses for `Idempotency-Key`: the same key and body replays the response; another body is refused. */

/**
 * `Idempotency-Key`s, per scope (route + owner, or route + API key name), kept 24 hours: a row without
 * `completed_at` is a request in flight (a second one with the same key gets 409); a completed row replays its
 * response for the same body and refuses another body.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    scope: varchar("scope", { length: 128 }).notNull(),
    key: varchar("key", { length: 128 }).notNull(),
    requestHash: varchar("request_hash", { length: 64 }).notNull(),
    statusCode: integer("status_code"),
    // Text, not jsonb: the body holds u64 literals that a JSON.parse round trip would round.
    response: text("response"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_keys_time").on(t.createdAt)],
);

/** Every program transaction the ingestion has committed: the record that stops one being counted twice. */
export const chainTransactions = pgTable(
  "chain_transactions",
  {
    signature: varchar("signature", { length: 128 }).primaryKey(),
    slot: bigint("slot", { mode: "bigint" }).notNull(),
    blockTime: timestamp("block_time", { withTimezone: true }),
    /** confirmed | finalized | failed */
    commitment: varchar("commitment", { length: 16 }).notNull(),
    err: jsonb("err"),
    messageHash: varchar("message_hash", { length: 64 }),
    eventCount: integer("event_count").notNull().default(0),
    source: varchar("source", { length: 16 }).notNull().default("poll"),
    ingestedAt: timestamp("ingested_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("chain_transactions_commitment_valid", inList("commitment", ["confirmed", "finalized", "failed"])),
    index("chain_transactions_slot").on(t.slot),
    index("chain_transactions_unfinalized").on(t.slot).where(sql`commitment = 'confirmed'`),
  ],
);

/** Durable cursors (ingestion position, resumable job progress), one row per name. */
export const cursors = pgTable("cursors", {
  name: varchar("name", { length: 64 }).primaryKey(),
  signature: varchar("signature", { length: 128 }),
  slot: bigint("slot", { mode: "bigint" }),
  state: jsonb("state"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** One row per job run: when, how long, outcome and figures. */
export const jobRuns = pgTable(
  "job_runs",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    job: varchar("job", { length: 64 }).notNull(),
    trigger: varchar("trigger", { length: 64 }).notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    durationMs: integer("duration_ms").notNull(),
    outcome: varchar("outcome", { length: 16 }).notNull(),
    figures: jsonb("figures"),
    error: text("error"),
  },
  (t) => [
    check("job_runs_outcome_valid", inList("outcome", ["ok", "error", "partial"])),
    index("job_runs_job_time").on(t.job, t.startedAt.desc()),
    // Retention deletes the oldest runs first.
    index("job_runs_time").on(t.startedAt),
  ],
);

/**
 * Owners that listen on a WebSocket. Ingestion publishes to these owners' hubs only, and only while the owner has
 * a socket or had one within SUBSCRIPTION_TTL: a Durable Object is never called for an owner nobody listens to
 * (their events are in `transactions` and the next connection's snapshot anyway). Expired rows are purged.
 */
export const socketSubscribers = pgTable("socket_subscribers", {
  owner: varchar("owner", { length: 44 }).primaryKey(),
  firstConnectedAt: timestamp("first_connected_at", { withTimezone: true }).notNull().defaultNow(),
  lastConnectedAt: timestamp("last_connected_at", { withTimezone: true }).notNull().defaultNow(),
  /** True from a connection until a publish finds the hub without sockets. */
  hasSockets: boolean("has_sockets").notNull().default(true),
  /** When the owner last had a socket, as far as the backend knows (a connection, or the publish that found none). */
  lastSocketAt: timestamp("last_socket_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Program transactions the ingestion could not read because the provider had pruned them (still null past the
 * configured history horizon): skipped so ingestion goes on, kept here until an archival endpoint backfills them.
 */
export const ingestGaps = pgTable(
  "ingest_gaps",
  {
    signature: varchar("signature", { length: 128 }).primaryKey(),
    /** The ingestion stream (cursor name) that met the gap. */
    stream: varchar("stream", { length: 64 }).notNull(),
    slot: bigint("slot", { mode: "bigint" }).notNull(),
    blockTime: timestamp("block_time", { withTimezone: true }),
    detectedAt: timestamp("detected_at", { withTimezone: true }).notNull().defaultNow(),
    /** When the transaction was fetched from the archive and committed; null while the gap is open. */
    backfilledAt: timestamp("backfilled_at", { withTimezone: true }),
  },
  (t) => [index("ingest_gaps_open").on(t.stream, t.slot).where(sql`backfilled_at is null`)],
);

/**
 * What each API key did: every privileged build (and its refusal) and every alert acknowledgement, by the key's
 * name (never the key). Read by `GET /monitor/audit`.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    apiKeyName: varchar("api_key_name", { length: 64 }).notNull(),
    /** The operation, e.g. `vault.lock`, `admin.pause`, `alert.ack`. */
    action: varchar("action", { length: 48 }).notNull(),
    /** `ok`, or the error code the request was refused with. */
    outcome: varchar("outcome", { length: 48 }).notNull(),
    transactionId: uuid("transaction_id"),
    alertId: bigint("alert_id", { mode: "bigint" }),
    requestId: varchar("request_id", { length: 64 }),
    details: jsonb("details"),
  },
  (t) => [
    index("audit_log_time").on(t.at.desc(), t.id.desc()),
    index("audit_log_key_time").on(t.apiKeyName, t.at.desc()),
  ],
);
