/**
 * Schemas of the `data` inside the success envelope of every JSON operation. They feed the OpenAPI
 * document (and so the generated client's types); test/worker/response-schemas.test.ts validates real responses of
 * every operation listed here against them. Objects are open (`looseObject`): a field may be added, never removed.
 */
import { z } from "zod";

/** A u64: an exact JSON integer literal, which may exceed 2^53 (a JavaScript reader's JSON.parse rounds those). */
const u64 = z
  .number()
  .min(0)
  .refine(Number.isInteger, "must be a whole number")
  .meta({ type: "integer", minimum: 0, description: "u64 as an exact JSON integer literal (may exceed 2^53)" });
const pubkey = z.string().meta({ description: "base58 public key" });
const iso = z.string().meta({ description: "ISO 8601 time" });

export const healthData = z.looseObject({
  status: z.enum(["healthy", "unhealthy"]),
  database: z.boolean(),
  solanaRpc: z.boolean(),
  version: z.string(),
});

export const buildData = z.looseObject({
  transactionId: z.string(),
  status: z.string(),
  unsignedTransaction: z.string().meta({ description: "base64 wire transaction, unsigned" }),
  message: z.string(),
  type: z.string(),
  owner: pubkey,
  amount: u64.nullable(),
  vaultAddress: pubkey,
  feePayer: pubkey,
  recentBlockhash: z.string(),
  lastValidBlockHeight: u64,
  computeUnitLimit: z.int(),
  computeUnitPrice: u64,
  estimatedFeeLamports: u64,
  messageHash: z.string(),
  instructions: z.array(z.string()),
  positionId: z.string().nullable().optional(),
});

export const balanceData = z.looseObject({
  owner: pubkey,
  totalBalance: u64,
  lockedBalance: u64,
  availableBalance: u64,
  formattedTotal: z.string(),
  formattedAvailable: z.string(),
  formattedLocked: z.string(),
  tokenAccountBalance: u64.nullable(),
  backedBalance: u64,
  unbackedBalance: u64,
  formattedBacked: z.string(),
  flags: z.array(z.string()),
  mint: z.string().nullable(),
  vaultAddress: pubkey,
  tokenAccount: z.string().nullable(),
  totalDeposited: u64,
  totalWithdrawn: u64,
  status: z.string(),
  createdAt: iso.nullable(),
  slot: u64,
  updatedAt: iso,
  source: z.string(),
});

export const requestData = z.looseObject({
  transactionId: z.string(),
  type: z.string(),
  status: z.string(),
  owner: pubkey,
  amount: u64.nullable(),
  signature: z.string().nullable(),
  slot: u64.nullable(),
  blockTime: iso.nullable(),
  counterparty: z.string().nullable(),
  reason: z.string().nullable(),
  positionId: z.string().nullable(),
  error: z.looseObject({}).nullable(),
  createdAt: iso,
  updatedAt: iso,
});

export const historyData = z.looseObject({
  owner: pubkey,
  transactions: z.array(requestData),
  total: z.int(),
  limit: z.int(),
  offset: z.int(),
});

export const tvlData = z.looseObject({
  totalValueLocked: u64,
  formattedTvl: z.string(),
  activeVaults: z.int(),
  recordedTotal: u64.nullable(),
  unbackedTotal: u64.nullable(),
  totalLocked: u64,
  totalAvailable: u64,
  formattedLocked: z.string(),
  formattedAvailable: z.string(),
  slot: u64.nullable(),
  asOf: iso,
  source: z.enum(["snapshot", "chain", "cache"]),
});

export const nonceData = z.looseObject({
  owner: pubkey,
  nonce: z.string(),
  message: z.string(),
  issuedAt: iso,
  expiresAt: iso,
  connect: z.string(),
});

const range = { from: iso, to: iso, bucket: z.enum(["raw", "minute", "hour", "day"]) };
const series = <T extends z.ZodType>(point: T) => ({
  points: z.array(point),
  truncated: z.boolean().meta({ description: "More points exist in the range than one answer carries" }),
});

export const tvlHistoryData = z.looseObject({
  ...range,
  ...series(
    z.looseObject({
      bucketStart: iso.nullable(),
      takenAt: iso,
      slot: u64.nullable(),
      totalValueLocked: u64,
      totalLocked: u64,
      totalAvailable: u64,
      tokenAccountTotal: u64.nullable(),
      activeVaults: z.int(),
    }),
  ),
});

export const balanceHistoryData = z.looseObject({
  owner: pubkey,
  ...range,
  ...series(
    z.looseObject({
      bucketStart: iso.nullable(),
      takenAt: iso,
      slot: u64,
      totalBalance: u64,
      lockedBalance: u64,
      availableBalance: u64,
    }),
  ),
});

const jobRun = z.looseObject({
  trigger: z.string(),
  startedAt: iso,
  durationMs: z.int().nullable(),
  outcome: z.string(),
  figures: z.unknown(),
  error: z.string().nullable(),
});

export const statusData = z.looseObject({
  status: z.enum(["healthy", "degraded"]),
  version: z.string(),
  time: iso,
  database: z.looseObject({ healthy: z.boolean() }),
  rpc: z.looseObject({ healthy: z.boolean(), slot: z.int().nullable() }),
  jobs: z.array(z.looseObject({ job: z.string(), lastRun: jobRun.nullable() })),
  reconciliation: z.looseObject({ roundInProgress: z.boolean() }).nullable(),
  scheduler: z.looseObject({}).nullable(),
  ingestion: z.looseObject({
    cursor: z.string().nullable(),
    lagSlots: z.int().nullable(),
    lagSeconds: z.int().nullable(),
  }),
  alerts: z.looseObject({ bySeverity: z.record(z.string(), z.int()) }).nullable(),
  programSafety: z.looseObject({ status: z.string(), checkedAt: iso.nullable() }),
});

export const alertData = z.looseObject({
  id: u64,
  kind: z.string(),
  severity: z.string(),
  status: z.string(),
  owner: pubkey.nullable(),
  message: z.string(),
  details: z.unknown(),
  count: z.int(),
  createdAt: iso,
  lastSeenAt: iso,
  acknowledgedAt: iso.nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: iso.nullable(),
});

export const alertsData = z.looseObject({
  alerts: z.array(alertData),
  total: z.int(),
  limit: z.int(),
  offset: z.int(),
});

export const auditData = z.looseObject({
  entries: z.array(
    z.looseObject({
      id: u64,
      at: iso,
      apiKey: z.string(),
      action: z.string(),
      outcome: z.string(),
      transactionId: z.string().nullable(),
      alertId: u64.nullable(),
      requestId: z.string().nullable(),
      details: z.unknown(),
    }),
  ),
  total: z.int(),
  limit: z.int(),
  offset: z.int(),
});

export const dashboardConfigData = z.looseObject({
  cluster: z.string(),
  localnet: z.looseObject({ rpcUrl: z.string(), faucetUrl: z.string() }).nullable(),
  programId: pubkey,
  usdtMint: pubkey,
  version: z.string(),
});

export const webhookData = z.looseObject({
  accepted: z.int().meta({ description: "Signatures taken from the payload for ingestion" }),
});
