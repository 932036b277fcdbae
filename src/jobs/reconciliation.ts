import { asc, inArray, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { vaults } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { publishAll } from "../ingest/notify.ts";
import { chunks } from "../lib/chunks.ts";
import { raiseAlert, resolveAlert } from "../platform/alerts.ts";
import type { Services } from "../platform/services.ts";
import { type OwnerEvent, reconciledBalanceUpdate } from "../realtime/events.ts";
import { backing, tokenColumns } from "../vault/backing.ts";
import {
  type BatchFigures,
  type BatchItem,
  type BatchRead,
  batchKeys,
  emptyFigures,
  type Repaired,
  reconcileBatch,
  type TvlSums,
  type VaultRow,
} from "./reconcile-batch.ts";
import { acquireLease, type ReconciliationState, type RoundState, saveState } from "./reconcile-cursor.ts";
import type { Job, JobContext, JobFigures } from "./types.ts";
import {
  compareKeys,
  type DiscoveredVault,
  PARTITIONS_PER_HTTP_REQUEST,
  readKeyLists,
  scanPartitions,
} from "./vault-scan.ts";

/** Vaults per getMultipleAccounts: each needs its account and its token account, 100 keys at most. */
export const VAULTS_PER_BATCH = 50;
/** getMultipleAccounts calls per JSON-RPC batch in the cache walk (one HTTP request for 500 vaults). */
const BATCHES_PER_READ = 10;
/** Discovery partitions: the value of the owner's first byte. */
export const DISCOVERY_PARTITIONS = 256;
/** The minute cron drives the rounds: a round of RECONCILIATION_INTERVAL seconds spans this many invocations. */
const CRON_PERIOD_SEC = 60;

/**
 * Reconciliation, run every minute by cron and gated by RECONCILIATION_INTERVAL. A round checks every cached vault
 * (the cache is the vault list: ingestion sees every initialize_vault) with getMultipleAccounts in 50-vault batches,
 * read ten to a JSON-RPC batch, in address order; and it discovers vaults that exist only on chain with scans
 * partitioned by the owner's first byte (256 small getProgramAccounts answers, each partition once per round). The
 * work is spread over the round: each invocation does its share of what is left (at most RECONCILIATION_MAX_BATCHES
 * getMultipleAccounts calls), and the position is saved after each batch, so a round over 100,000 vaults completes
 * within its interval without any invocation reading the whole program. The chain's TVL is summed on the way; at the
 * end of a round it is compared with the cache's and an alert is raised when they disagree.
 */
export const reconciliationJob: Job = {
  name: "reconciliation",
  async run(env, ctx, services) {
    const now = Date.now();
    const { db } = services.db();
    const state = await acquireLease(db, now);
    if (!state) return null;
    if (!state.round && !isDue(state, services.config.reconciliationIntervalSec, now)) {
      await saveState(db, state, true);
      return null;
    }
    state.round ??= newRound(now);
    try {
      return await runRound(env, ctx, services, state);
    } catch (err) {
      await saveState(db, state, true).catch(() => {});
      throw err;
    }
  },
};

function isDue(state: ReconciliationState, intervalSec: number, now: number): boolean {
  if (!state.lastRound) return true;
  const intervalMs = intervalSec * 1000;
  // Cron ticks jitter by a few seconds: a round due at 300 s should not wait for the next tick at 359 s.
  const tolerance = Math.min(30_000, intervalMs / 10);
  return now - Date.parse(state.lastRound.startedAt) >= intervalMs - tolerance;
}

function newRound(now: number): RoundState {
  return {
    startedAt: new Date(now).toISOString(),
    lastKey: null,
    maxSlot: 0,
    batches: 0,
    invocations: 0,
    totals: emptyFigures(),
    cacheDone: false,
    discoveryNext: 0,
    sums: { chain: "0", cache: "0", backed: "0" },
  };
}

/** What one invocation did, beside the batch figures. */
interface InvocationWork {
  batches: number;
  scans: number;
  largestScan: number;
}

async function runRound(
  env: Bindings,
  ctx: JobContext,
  services: Services,
  state: ReconciliationState,
): Promise<JobFigures> {
  const round = state.round!;
  round.invocations++;
  const { db } = services.db();
  const { config } = services;
  round.cachedAtStart ??= await countCached(db, null);
  // This invocation's share of what is left of the walk (the cached vaults after the round's position, counted now:
  // discovery adds to them), so the round ends within its interval; never above the cap.
  const invocations = Math.max(1, Math.floor(config.reconciliationIntervalSec / CRON_PERIOD_SEC));
  const remainingInvocations = Math.max(1, invocations - round.invocations + 1);
  const cacheBatchesLeft = round.cacheDone ? 0 : Math.ceil((await countCached(db, round.lastKey)) / VAULTS_PER_BATCH);
  const budget = Math.min(
    config.reconciliationMaxBatches,
    Math.max(1, Math.ceil(cacheBatchesLeft / remainingInvocations)),
  );
  const partitionsLeft = DISCOVERY_PARTITIONS - (round.discoveryNext ?? 0);
  const partitions = Math.ceil(partitionsLeft / remainingInvocations);
  const figures = emptyFigures();
  const work: InvocationWork = { batches: 0, scans: 0, largestScan: 0 };
  const applyOne = async (items: BatchItem[], read: BatchRead) => {
    const result = await reconcileBatch(services, items, round.maxSlot, read);
    work.batches++;
    round.batches++;
    round.maxSlot = Math.max(round.maxSlot, result.slot);
    addFigures(figures, result.figures);
    addFigures(round.totals, result.figures);
    addSums(round, result.sums);
    pushBalanceUpdates(env, ctx, services, result.repaired);
  };
  // Any number of vaults: 50 per batch, their accounts read ten batches to a JSON-RPC batch, each batch reconciled
  // (then `after` it, e.g. saving the walk's position).
  const apply: Apply = async (items, after) => {
    const batches = chunks(items, VAULTS_PER_BATCH);
    const reads = await readKeyLists(services.rpc, batches.map(batchKeys), round.maxSlot);
    for (const [i, batch] of batches.entries()) {
      await applyOne(batch, reads[i]!);
      await after?.(batch);
    }
  };

  // Discovery may use the whole cap: vaults only the chain knows are rare (after a first deploy or an outage) and
  // are best cached at once; the cache walk then takes its paced share on top, within the cap.
  await discover(services, state, partitions, config.reconciliationMaxBatches, work, apply);
  await walkCache(services, state, Math.min(config.reconciliationMaxBatches, work.batches + budget), work, apply);
  const complete = round.cacheDone === true && (round.discoveryNext ?? 0) >= DISCOVERY_PARTITIONS;
  const sums = round.sums ?? { chain: "0", cache: "0", backed: "0" };
  let tvlAlert = false;
  if (complete) {
    tvlAlert = await compareTvl(services, sums, round.maxSlot);
    state.lastRound = {
      startedAt: round.startedAt,
      finishedAt: new Date().toISOString(),
      slot: round.maxSlot,
      batches: round.batches,
      totals: round.totals,
      chainTvl: sums,
    };
    state.round = null;
  }
  await saveState(db, state, true);
  return {
    ...figures,
    batches: work.batches,
    discoveryScans: work.scans,
    largestScanAccounts: work.largestScan,
    cachedVaults: round.cachedAtStart,
    slot: round.maxSlot,
    roundStartedAt: round.startedAt,
    roundComplete: complete,
    ...(complete ? { roundTotals: round.totals, roundBatches: round.batches, chainTvl: sums, tvlAlert } : {}),
    partial: !complete,
  };
}

type Apply = (items: BatchItem[], after?: (batch: BatchItem[]) => Promise<void>) => Promise<void>;

/**
 * The cache walk: the next cached vaults after the round's position, read ten batches to a JSON-RPC batch, each
 * batch reconciled and the position saved after it.
 */
async function walkCache(
  services: Services,
  state: ReconciliationState,
  budget: number,
  work: InvocationWork,
  apply: Apply,
): Promise<void> {
  const round = state.round!;
  const { db } = services.db();
  while (!round.cacheDone && work.batches < budget) {
    const want = Math.min(BATCHES_PER_READ, budget - work.batches);
    const rows = await cachedAfter(db, round.lastKey, want * VAULTS_PER_BATCH);
    if (rows.length === 0) {
      round.cacheDone = true;
      break;
    }
    await apply(
      rows.map((r) => ({ address: r.vaultAddress, tokenAccount: r.tokenAccount, cached: r })),
      async (batch) => {
        round.lastKey = batch[batch.length - 1]!.address;
        await saveState(db, state, false);
      },
    );
    if (rows.length < want * VAULTS_PER_BATCH) round.cacheDone = true;
  }
  // The share ended exactly at the last cached vault: the walk is done now, not one invocation later.
  if (!round.cacheDone && (await cachedAfter(db, round.lastKey, 1)).length === 0) round.cacheDone = true;
}

/**
 * Discovery: the next `count` owner-byte partitions, scanned a few per JSON-RPC batch; vaults the cache does not
 * hold are reconciled (and so cached) in batches. A partition whose vaults did not all fit in the budget is scanned
 * again by the next invocation (what was cached meanwhile is no longer missing).
 */
async function discover(
  services: Services,
  state: ReconciliationState,
  count: number,
  budget: number,
  work: InvocationWork,
  apply: Apply,
): Promise<void> {
  const round = state.round!;
  const { db } = services.db();
  let next = round.discoveryNext ?? 0;
  // A small program is scanned whole, once (one answer of a few MB at most, one getProgramAccounts instead of 256:
  // providers meter that method apart and price it high); a large one in owner-byte partitions.
  const whole = (round.cachedAtStart ?? 0) < services.config.reconciliationSingleScanMax;
  const end = whole ? (next === 0 ? DISCOVERY_PARTITIONS : next) : Math.min(DISCOVERY_PARTITIONS, next + count);
  while (next < end && work.batches < budget) {
    const group: (number | null)[] = whole
      ? [null]
      : Array.from({ length: Math.min(PARTITIONS_PER_HTTP_REQUEST, end - next) }, (_, i) => next + i);
    const scan = await scanPartitions(services.rpc, services.config.programId, group, round.maxSlot);
    work.scans += group.length;
    work.largestScan = Math.max(work.largestScan, scan.largestResponse);
    round.maxSlot = Math.max(round.maxSlot, scan.slot);
    const missing = await notCached(db, scan.vaults);
    const fits = (budget - work.batches) * VAULTS_PER_BATCH;
    await apply(
      missing.slice(0, fits).map((v) => ({ address: v.address, tokenAccount: v.tokenAccount, cached: null })),
    );
    if (missing.length > fits) break;
    next = whole ? DISCOVERY_PARTITIONS : next + group.length;
    round.discoveryNext = next;
    await saveState(db, state, false);
  }
}

/** The walk's order: vault addresses byte by byte (`COLLATE "C"`, as `compareKeys` compares them). */
const WALK_ORDER = sql`${vaults.vaultAddress} collate "C"`;

/** Cached vaults, or those after `lastKey` in the walk's order. */
async function countCached(db: Queryable, lastKey: string | null): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(vaults)
    .where(lastKey === null ? undefined : sql`${WALK_ORDER} > ${lastKey}`);
  return Number(row?.n ?? 0);
}

async function cachedAfter(db: Queryable, lastKey: string | null, limit: number): Promise<VaultRow[]> {
  return db
    .select()
    .from(vaults)
    .where(lastKey === null ? undefined : sql`${WALK_ORDER} > ${lastKey}`)
    .orderBy(asc(WALK_ORDER))
    .limit(limit);
}

/** The scanned vaults the cache does not hold (one query per 1,000 addresses). */
async function notCached(db: Queryable, found: DiscoveredVault[]): Promise<DiscoveredVault[]> {
  const known = new Set<string>();
  for (const part of chunks(found, 1_000)) {
    const rows = await db
      .select({ address: vaults.vaultAddress })
      .from(vaults)
      .where(
        inArray(
          vaults.vaultAddress,
          part.map((v) => v.address),
        ),
      );
    for (const r of rows) known.add(r.address);
  }
  return found.filter((v) => !known.has(v.address)).sort((a, b) => compareKeys(a.address, b.address));
}

const TVL_ALERT_KEY = "reconciliation_tvl_mismatch";

/**
 * The round's chain TVL against the cache's for the same vaults (their totals before repair): a difference above
 * RECONCILIATION_ALERT_THRESHOLD means the cache's TVL was wrong by that much before this round repaired it.
 */
async function compareTvl(
  services: Services,
  sums: { chain: string; cache: string; backed: string },
  slot: number,
): Promise<boolean> {
  const { db } = services.db();
  const difference = BigInt(sums.chain) - BigInt(sums.cache);
  const threshold = services.config.reconciliationAlertThreshold * 1_000_000n;
  if ((difference < 0n ? -difference : difference) <= threshold) {
    await resolveAlert(db, TVL_ALERT_KEY);
    return false;
  }
  await raiseAlert(db, {
    kind: "reconciliation_tvl_mismatch",
    severity: "warning",
    dedupKey: TVL_ALERT_KEY,
    message: `The chain's recorded TVL (${sums.chain}) differed from the cache's (${sums.cache}) by ${difference} over the last reconciliation round; repaired`,
    details: {
      slot,
      chainTotal: sums.chain,
      cacheTotal: sums.cache,
      chainBacked: sums.backed,
      difference: `${difference}`,
    },
  });
  return true;
}

function addSums(round: RoundState, add: TvlSums): void {
  const s = round.sums ?? { chain: "0", cache: "0", backed: "0" };
  round.sums = {
    chain: `${BigInt(s.chain) + add.chain}`,
    cache: `${BigInt(s.cache) + add.cache}`,
    backed: `${BigInt(s.backed) + add.backed}`,
  };
}

function addFigures(into: BatchFigures, add: BatchFigures): void {
  for (const key of Object.keys(into) as (keyof BatchFigures)[]) into[key] += add[key];
}

/** Best effort: a hub that is down must not fail reconciliation, so the pushes are logged and forgotten. */
function pushBalanceUpdates(env: Bindings, ctx: JobContext, services: Services, repaired: Repaired[]): void {
  if (repaired.length === 0) return;
  const byOwner = new Map<string, OwnerEvent[]>();
  const usdtMint = services.config.usdtMint.toBase58();
  for (const r of repaired) {
    const token = tokenColumns(r.token, BigInt(r.slot));
    byOwner.set(r.owner, [
      reconciledBalanceUpdate({
        owner: r.owner,
        vaultAddress: r.address,
        totalBalance: r.vault.totalBalance,
        lockedBalance: r.vault.lockedBalance,
        availableBalance: r.vault.availableBalance,
        totalDeposited: r.vault.totalDeposited,
        totalWithdrawn: r.vault.totalWithdrawn,
        backing: backing({ totalBalance: r.vault.totalBalance, ...token }, usdtMint),
        mint: token.mint,
        slot: r.slot,
      }),
    ]);
  }
  ctx.waitUntil(
    publishAll(env, services, byOwner).catch((err) =>
      services.log.warn("reconciliation: balance_update push failed", { owners: byOwner.size, error: err }),
    ),
  );
}
