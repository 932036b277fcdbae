import { sql } from "drizzle-orm";
import { vaults } from "../db/schema.ts";
import type { Services } from "../env.ts";
import { formatUsdt } from "../lib/amount.ts";

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

/**
 * GET /vault/tvl from the vaults cache, in one SQL statement: current to the ingestion lag (ingestion updates a
 * vault's row, balances and token account, in the commit that sees its transaction), and at no RPC cost. Backed USDT
 * only, with the same rule as `backing()`: a vault counts when its token account was read and holds USDT_MINT, with
 * min(recorded total, token amount); closed vaults do not count. The TVL job still writes the chain's figures to
 * `tvl_snapshots` (the history).
 */
export async function currentTvl(services: Services) {
  const usdt = services.config.usdtMint.toBase58();
  const result = await services.reads().execute<{
    tvl: string;
    recorded: string;
    locked: string;
    available: string;
    active: number;
    slot: string | null;
  }>(sql`
    with usdt as (
      select * from ${vaults}
      where status <> 'closed' and token_slot is not null and token_amount is not null and mint = ${usdt}
    )
    select
      coalesce(sum(least(total_balance, token_amount)), 0)::text as tvl,
      coalesce(sum(total_balance), 0)::text as recorded,
      coalesce(sum(locked_balance), 0)::text as locked,
      coalesce(sum(available_balance), 0)::text as available,
      count(*)::int as active,
      (select max(slot) from ${vaults})::text as slot
    from usdt`);
  const row = result.rows[0]!;
  return tvlView(
    {
      totalValueLocked: BigInt(row.tvl),
      recordedTotal: BigInt(row.recorded),
      totalLocked: BigInt(row.locked),
      totalAvailable: BigInt(row.available),
      activeVaults: Number(row.active),
      slot: row.slot === null ? null : BigInt(row.slot),
    },
    "cache",
    new Date(),
  );
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
