import { desc } from "drizzle-orm";
import { fromBase64 } from "../chain/accounts.ts";
import { COLLATERAL_VAULT_SIZE } from "../chain/program/index.ts";
import { tvlSnapshots } from "../db/schema.ts";
import type { Services } from "../env.ts";
import { formatUsdt } from "../lib/amount.ts";

/** base58 of the CollateralVault discriminator (vault-program.md §2.1). */
const VAULT_DISCRIMINATOR_B58 = "4JW1hBZa91A";

export interface TvlFigures {
  totalValueLocked: bigint;
  totalLocked: bigint;
  totalAvailable: bigint;
  activeVaults: number;
  slot: bigint | null;
}

/**
 * TVL straight from the chain: every CollateralVault account (size and discriminator filters), reading only the
 * three balance fields (dataSlice at offset 72, 24 bytes).
 */
export async function tvlFromChain(services: Services): Promise<TvlFigures> {
  const result = await services.rpc.call<{
    context: { slot: number };
    value: { pubkey: string; account: { data: [string, string] } }[];
  }>("getProgramAccounts", [
    services.config.programId.toBase58(),
    {
      encoding: "base64",
      commitment: "confirmed",
      withContext: true,
      dataSlice: { offset: 72, length: 24 },
      filters: [{ dataSize: COLLATERAL_VAULT_SIZE }, { memcmp: { offset: 0, bytes: VAULT_DISCRIMINATOR_B58 } }],
    },
  ]);
  let total = 0n;
  let locked = 0n;
  let available = 0n;
  for (const { account } of result.value) {
    const bytes = fromBase64(account.data[0]);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    total += view.getBigUint64(0, true);
    locked += view.getBigUint64(8, true);
    available += view.getBigUint64(16, true);
  }
  return {
    totalValueLocked: total,
    totalLocked: locked,
    totalAvailable: available,
    activeVaults: result.value.length,
    slot: BigInt(result.context.slot),
  };
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
  return tvlView(await tvlFromChain(services), "chain", new Date());
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
