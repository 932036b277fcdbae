import { eq, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import { cursors } from "../db/schema.ts";
import type { BatchFigures } from "./reconcile-batch.ts";

/** The `cursors` row that carries reconciliation progress between invocations. */
export const RECONCILIATION_CURSOR = "job:reconciliation";

/** A lease stops a cron tick and a slow previous invocation from reconciling the same chunk twice. */
const LEASE_MS = 120_000;

export interface RoundState {
  startedAt: string;
  /** Last vault address reconciled (byte order); null before the first chunk. */
  lastKey: string | null;
  /** Highest context slot seen this round: later reads pass it as minContextSlot, so slots never go back. */
  maxSlot: number;
  batches: number;
  invocations: number;
  totals: BatchFigures;
  /** Cached vaults when the round started (paces the walk over the round's invocations). */
  cachedAtStart?: number;
  /** The cache walk reached its end. */
  cacheDone?: boolean;
  /** Next discovery partition (owner's first byte) to scan; 256 when all were scanned. */
  discoveryNext?: number;
  /** The chain's TVL summed over the vaults checked so far, and the cache's for the same vaults (decimal strings). */
  sums?: { chain: string; cache: string; backed: string };
}

export interface ReconciliationState {
  round: RoundState | null;
  lastRound: {
    startedAt: string;
    finishedAt: string;
    slot: number;
    batches: number;
    totals: BatchFigures;
    chainTvl?: { chain: string; cache: string; backed: string };
  } | null;
  leaseUntil: number;
}

const INITIAL: ReconciliationState = { round: null, lastRound: null, leaseUntil: 0 };

/** Takes the lease; returns the saved state, or null when another invocation holds it. */
export async function acquireLease(db: Database, now: number): Promise<ReconciliationState | null> {
  await db
    .insert(cursors)
    .values({ name: RECONCILIATION_CURSOR, state: INITIAL })
    .onConflictDoNothing({ target: cursors.name });
  const rows = await db
    .update(cursors)
    .set({
      state: sql`jsonb_set(${cursors.state}, '{leaseUntil}', to_jsonb(${now + LEASE_MS}::bigint))`,
      updatedAt: new Date(),
    })
    .where(
      sql`${cursors.name} = ${RECONCILIATION_CURSOR} and coalesce((${cursors.state}->>'leaseUntil')::bigint, 0) < ${now}`,
    )
    .returning({ state: cursors.state });
  const state = rows[0]?.state as ReconciliationState | undefined;
  return state ? { ...INITIAL, ...state } : null;
}

/** Saves progress; `release` ends the lease, otherwise it is renewed. */
export async function saveState(db: Database, state: ReconciliationState, release: boolean): Promise<void> {
  const next = { ...state, leaseUntil: release ? 0 : Date.now() + LEASE_MS };
  await db
    .update(cursors)
    .set({ state: next, slot: BigInt(state.round?.maxSlot ?? state.lastRound?.slot ?? 0), updatedAt: new Date() })
    .where(eq(cursors.name, RECONCILIATION_CURSOR));
}

/** Reads the state without taking the lease (status page). */
export async function readState(db: Queryable): Promise<ReconciliationState | null> {
  const [row] = await db.select().from(cursors).where(eq(cursors.name, RECONCILIATION_CURSOR)).limit(1);
  return row ? { ...INITIAL, ...(row.state as ReconciliationState) } : null;
}
