import { asc, sql } from "drizzle-orm";
import { vaults } from "../db/schema.ts";
import type { Bindings, Services } from "../env.ts";
import { publishAll } from "../ingest/notify.ts";
import { type OwnerEvent, reconciledBalanceUpdate } from "../realtime/events.ts";
import { backing, tokenColumns } from "../vault/backing.ts";
import {
  type BatchFigures,
  type BatchItem,
  emptyFigures,
  type Repaired,
  reconcileBatch,
  type VaultRow,
} from "./reconcile-batch.ts";
import { acquireLease, type ReconciliationState, type RoundState, saveState } from "./reconcile-cursor.ts";
import type { Job, JobContext, JobFigures } from "./types.ts";
import { compareKeys, type ScannedVault, scanVaults } from "./vault-scan.ts";

/** Vaults per getMultipleAccounts: each needs its account and its token account, 100 keys at most. */
export const VAULTS_PER_BATCH = 50;

/**
 * Reconciliation, run every minute by cron and gated by RECONCILIATION_INTERVAL: a round walks every vault on chain
 * and in the cache in address order, at most RECONCILIATION_MAX_BATCHES batches per invocation; the position is
 * saved after each batch, so a round over 10,000 vaults completes across invocations.
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
      return await runChunks(env, ctx, services, state);
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
  };
}

async function runChunks(
  env: Bindings,
  ctx: JobContext,
  services: Services,
  state: ReconciliationState,
): Promise<JobFigures> {
  const round = state.round!;
  round.invocations++;
  const { db } = services.db();
  const scan = await scanVaults(services.rpc, services.config.programId, { minContextSlot: round.maxSlot });
  round.maxSlot = Math.max(round.maxSlot, scan.slot);
  const chain = scan.vaults.sort((a, b) => compareKeys(a.address, b.address));
  const figures = emptyFigures();
  let batches = 0;
  let complete = false;
  while (batches < services.config.reconciliationMaxBatches) {
    const items = await nextItems(services, chain, round.lastKey);
    if (items.length === 0) {
      complete = true;
      break;
    }
    const result = await reconcileBatch(services, items, round.maxSlot);
    batches++;
    round.batches++;
    round.maxSlot = Math.max(round.maxSlot, result.slot);
    round.lastKey = items[items.length - 1]!.address;
    addFigures(figures, result.figures);
    addFigures(round.totals, result.figures);
    pushBalanceUpdates(env, ctx, services, result.repaired);
    await saveState(db, state, false);
  }
  if (!complete) complete = (await nextItems(services, chain, round.lastKey)).length === 0;
  if (complete) {
    state.lastRound = {
      startedAt: round.startedAt,
      finishedAt: new Date().toISOString(),
      slot: round.maxSlot,
      batches: round.batches,
      totals: round.totals,
    };
    state.round = null;
  }
  await saveState(db, state, true);
  return {
    ...figures,
    batches,
    vaultsOnChain: chain.length,
    slot: round.maxSlot,
    roundStartedAt: round.startedAt,
    roundComplete: complete,
    ...(complete ? { roundTotals: round.totals, roundBatches: round.batches } : {}),
    partial: !complete,
  };
}

/**
 * The next ≤ 50 addresses after `lastKey`, merging the chain's sorted addresses with the cache's (byte order on
 * both sides, `COLLATE "C"`), so cached vaults missing from the chain are visited too.
 */
async function nextItems(services: Services, chain: ScannedVault[], lastKey: string | null): Promise<BatchItem[]> {
  const start = lastKey === null ? 0 : firstAfter(chain, lastKey);
  const fromChain = chain.slice(start, start + VAULTS_PER_BATCH);
  const { db } = services.db();
  const address = sql`${vaults.vaultAddress} collate "C"`;
  const fromCache = await db
    .select()
    .from(vaults)
    .where(lastKey === null ? undefined : sql`${address} > ${lastKey}`)
    .orderBy(asc(address))
    .limit(VAULTS_PER_BATCH);
  const cached = new Map<string, VaultRow>(fromCache.map((r) => [r.vaultAddress, r]));
  const scanned = new Map(fromChain.map((v) => [v.address, v]));
  const addresses = [...new Set([...scanned.keys(), ...cached.keys()])].sort(compareKeys).slice(0, VAULTS_PER_BATCH);
  return addresses.map((a) => ({
    address: a,
    tokenAccount: scanned.get(a)?.tokenAccount ?? cached.get(a)?.tokenAccount ?? null,
    cached: cached.get(a) ?? null,
  }));
}

/** Index of the first address greater than `key` in a sorted list (binary search). */
function firstAfter(sorted: ScannedVault[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid]!.address, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
