import { desc } from "drizzle-orm";
import { tvlSnapshots } from "../db/schema.ts";
import type { Services } from "../env.ts";
import { computeTvl } from "../jobs/tvl.ts";
import { formatUsdt } from "../lib/amount.ts";

export interface TvlFigures {
  totalValueLocked: bigint;
  totalLocked: bigint;
  totalAvailable: bigint;
  activeVaults: number;
  slot: bigint | null;
}

/**
 * GET /vault/tvl: the latest TVL snapshot (written by the TVL job from the chain) when it is recent, otherwise
 * computed from the chain now.
 */
export async function currentTvl(services: Services) {
  const { db } = services.db();
  const [latest] = await db.select().from(tvlSnapshots).orderBy(desc(tvlSnapshots.takenAt)).limit(1);
  const maxAgeMs = 2 * services.config.reconciliationIntervalSec * 1000;
  if (latest && Date.now() - latest.takenAt.getTime() <= maxAgeMs) {
    return tvlView(
      {
        totalValueLocked: latest.totalValueLocked,
        totalLocked: latest.totalLocked,
        totalAvailable: latest.totalAvailable,
        activeVaults: latest.activeVaults,
        slot: latest.slot,
      },
      "snapshot",
      latest.takenAt,
    );
  }
  // Same definition as the TVL job (vaults holding the configured mint), computed now.
  const fresh = await computeTvl(services);
  return tvlView({ ...fresh, slot: BigInt(fresh.slot) }, "chain", new Date());
}

function tvlView(f: TvlFigures, source: "snapshot" | "chain", asOf: Date) {
  return {
    totalValueLocked: f.totalValueLocked,
    formattedTvl: formatUsdt(f.totalValueLocked, { grouping: true }),
    activeVaults: f.activeVaults,
    totalLocked: f.totalLocked,
    totalAvailable: f.totalAvailable,
    formattedLocked: formatUsdt(f.totalLocked, { grouping: true }),
    formattedAvailable: formatUsdt(f.totalAvailable, { grouping: true }),
    slot: f.slot,
    asOf: asOf.toISOString(),
    source,
  };
}
