import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { vaults } from "../db/schema.ts";
import { formatUsdt } from "../lib/amount.ts";
import type { Services } from "../platform/services.ts";

export interface TvlFigures {
  /** Backed USDT (see jobs/tvl.ts). */
  totalValueLocked: bigint;
  /** Σ recorded totals of USDT vaults; null for snapshots taken before it was recorded. */
  recordedTotal: bigint | null;
  totalLocked: bigint;
  totalAvailable: bigint;
  activeVaults: number;
  slot: bigint | null;
}

/** TVL's sums over USDT vaults, whether read from the cache (`cacheTvl`) or from the chain (jobs/tvl.ts). */
export interface TvlSums {
  /** USDT that backs the recorded totals: Σ min(recorded total, token account amount) over USDT vaults. */
  totalValueLocked: bigint;
  /** Σ recorded totals of USDT vaults (= totalLocked + totalAvailable); above TVL when balances are unbacked. */
  recordedTotal: bigint;
  totalLocked: bigint;
  totalAvailable: bigint;
  tokenAccountTotal: bigint;
  activeVaults: number;
  /** Open vaults left out: token account missing, unread or of another mint (bugs §8.5). */
  otherMintVaults: number;
}

/** The cache's sums, with the newest slot the cache reflects (null for an empty cache). */
export interface CacheTotals extends TvlSums {
  slot: bigint | null;
}

/**
 * TVL from the vaults cache, in one SQL statement: current to the ingestion lag (ingestion updates a vault's row,
 * balances and token account, in the commit that sees its transaction; reconciliation repairs the rest), at no RPC
 * cost whatever the number of vaults. Backed USDT only, with the same rule as `backing()`: a vault counts when its
 * token account was read and holds USDT_MINT, with min(recorded total, token amount); closed vaults do not count.
 */
export async function cacheTvl(db: Queryable, usdtMint: string): Promise<CacheTotals> {
  type Row = {
    tvl: string;
    recorded: string;
    locked: string;
    available: string;
    tokens: string;
    active: number;
    other: number;
    slot: string | null;
  };
  const result = await db.execute(sql`
    with open_vaults as (select * from ${vaults} where status <> 'closed'),
    usdt as (
      select * from open_vaults where token_slot is not null and token_amount is not null and mint = ${usdtMint}
    )
    select
      coalesce(sum(least(total_balance, token_amount)), 0)::text as tvl,
      coalesce(sum(total_balance), 0)::text as recorded,
      coalesce(sum(locked_balance), 0)::text as locked,
      coalesce(sum(available_balance), 0)::text as available,
      coalesce(sum(token_amount), 0)::text as tokens,
      count(*)::int as active,
      ((select count(*) from open_vaults) - count(*))::int as other,
      (select max(slot) from ${vaults})::text as slot
    from usdt`);
  const row = (result as unknown as { rows: Row[] }).rows[0]!;
  return {
    totalValueLocked: BigInt(row.tvl),
    recordedTotal: BigInt(row.recorded),
    totalLocked: BigInt(row.locked),
    totalAvailable: BigInt(row.available),
    tokenAccountTotal: BigInt(row.tokens),
    activeVaults: Number(row.active),
    otherMintVaults: Number(row.other),
    slot: row.slot === null ? null : BigInt(row.slot),
  };
}

/** GET /vault/tvl: the cache's TVL (source `cache`), read over the request's read path. */
export async function currentTvl(services: Services) {
  const totals = await cacheTvl(services.reads(), services.config.usdtMint.toBase58());
  return tvlView(totals, "cache", new Date());
}

/** TVL counts backed USDT only; the recorded figures (and what of them is unbacked) are reported beside it. */
function tvlView(f: TvlFigures, source: "snapshot" | "chain" | "cache", asOf: Date) {
  return {
    totalValueLocked: f.totalValueLocked,
    formattedTvl: formatUsdt(f.totalValueLocked, { grouping: true }),
    activeVaults: f.activeVaults,
    recordedTotal: f.recordedTotal,
    unbackedTotal: f.recordedTotal === null ? null : f.recordedTotal - f.totalValueLocked,
    totalLocked: f.totalLocked,
    totalAvailable: f.totalAvailable,
    formattedLocked: formatUsdt(f.totalLocked, { grouping: true }),
    formattedAvailable: formatUsdt(f.totalAvailable, { grouping: true }),
    slot: f.slot,
    asOf: asOf.toISOString(),
    source,
  };
}
