import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { balanceSnapshots, tvlSnapshots, vaults } from "../db/schema.ts";

export const BUCKETS = ["raw", "minute", "hour", "day"] as const;
export type Bucket = (typeof BUCKETS)[number];
export const BUCKET_MS: Record<Exclude<Bucket, "raw">, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** Most points a history answers with; raw series beyond it are cut (`truncated`), bucketed ranges refused. */
export const MAX_POINTS = 2_000;

export interface Range {
  from: Date;
  to: Date;
  bucket: Bucket;
}

/**
 * The TVL series in [from, to): every snapshot (raw), or the last snapshot of each minute, hour or day — TVL is a
 * level, so a bucket's value is where it ended.
 */
export async function tvlHistory(db: Queryable, range: Range) {
  const inRange = and(gte(tvlSnapshots.takenAt, range.from), lt(tvlSnapshots.takenAt, range.to));
  const columns = {
    takenAt: tvlSnapshots.takenAt,
    slot: tvlSnapshots.slot,
    totalValueLocked: tvlSnapshots.totalValueLocked,
    totalLocked: tvlSnapshots.totalLocked,
    totalAvailable: tvlSnapshots.totalAvailable,
    tokenAccountTotal: tvlSnapshots.tokenAccountTotal,
    activeVaults: tvlSnapshots.activeVaults,
  };
  if (range.bucket === "raw") {
    const rows = await db
      .select(columns)
      .from(tvlSnapshots)
      .where(inRange)
      .orderBy(asc(tvlSnapshots.takenAt), asc(tvlSnapshots.id))
      .limit(MAX_POINTS + 1);
    return page(rows.map((r) => ({ bucketStart: null, ...r, takenAt: r.takenAt.toISOString() })));
  }
  // The unit is inlined (one of BUCKETS, never user text): as a bind parameter, Postgres could not match the
  // DISTINCT ON expression with the ORDER BY one.
  const start = sql<string>`date_trunc('${sql.raw(range.bucket)}', ${tvlSnapshots.takenAt}, 'UTC')`;
  const rows = await db
    .selectDistinctOn([start], { bucketStart: start, ...columns })
    .from(tvlSnapshots)
    .where(inRange)
    .orderBy(start, sql`${tvlSnapshots.takenAt} desc`, sql`${tvlSnapshots.id} desc`);
  return page(rows.map((r) => ({ ...r, bucketStart: isoOf(r.bucketStart), takenAt: r.takenAt.toISOString() })));
}

/** One owner's balance snapshots in [from, to), raw or the last of each bucket; null when the owner is unknown. */
export async function balanceHistory(db: Queryable, owner: string, range: Range) {
  const inRange = and(
    eq(balanceSnapshots.owner, owner),
    gte(balanceSnapshots.takenAt, range.from),
    lt(balanceSnapshots.takenAt, range.to),
  );
  const columns = {
    takenAt: balanceSnapshots.takenAt,
    slot: balanceSnapshots.slot,
    totalBalance: balanceSnapshots.totalBalance,
    lockedBalance: balanceSnapshots.lockedBalance,
    availableBalance: balanceSnapshots.availableBalance,
  };
  const start = sql<string>`date_trunc('${sql.raw(range.bucket === "raw" ? "second" : range.bucket)}', ${balanceSnapshots.takenAt}, 'UTC')`;
  const rows =
    range.bucket === "raw"
      ? await db
          .select({ bucketStart: sql<null>`null`, ...columns })
          .from(balanceSnapshots)
          .where(inRange)
          .orderBy(asc(balanceSnapshots.takenAt), asc(balanceSnapshots.id))
          .limit(MAX_POINTS + 1)
      : await db
          .selectDistinctOn([start], { bucketStart: start, ...columns })
          .from(balanceSnapshots)
          .where(inRange)
          .orderBy(start, sql`${balanceSnapshots.takenAt} desc`, sql`${balanceSnapshots.id} desc`);
  if (rows.length === 0 && !(await ownerKnown(db, owner))) return null;
  return page(
    rows.map((r) => ({
      ...r,
      bucketStart: r.bucketStart ? isoOf(r.bucketStart) : null,
      takenAt: r.takenAt.toISOString(),
    })),
  );
}

async function ownerKnown(db: Queryable, owner: string): Promise<boolean> {
  const [v] = await db.select({ owner: vaults.owner }).from(vaults).where(eq(vaults.owner, owner)).limit(1);
  if (v) return true;
  const [s] = await db
    .select({ id: balanceSnapshots.id })
    .from(balanceSnapshots)
    .where(eq(balanceSnapshots.owner, owner))
    .limit(1);
  return s !== undefined;
}

function page<T>(rows: T[]): { points: T[]; truncated: boolean } {
  return { points: rows.slice(0, MAX_POINTS), truncated: rows.length > MAX_POINTS };
}

/** Postgres answers a timestamptz as text through this path; normalise it to ISO 8601. */
function isoOf(value: string | Date): string {
  return new Date(value).toISOString();
}
