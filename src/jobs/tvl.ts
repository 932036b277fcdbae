import { decodeTokenAccount } from "../chain/accounts.ts";
import { tvlSnapshots } from "../db/schema.ts";
import { raiseAlert, resolveAlert } from "../platform/alerts.ts";
import type { Services } from "../platform/services.ts";
import { backing, tokenColumns } from "../vault/backing.ts";
import { cacheTvl, type TvlSums } from "../vault/tvl.ts";
import type { Job } from "./types.ts";
import { readAccountsMany, scanVaults } from "./vault-scan.ts";

/** The chain's sums, read at one slot. */
export interface TvlTotals extends TvlSums {
  slot: number;
}

const MISMATCH_KEY = "tvl_token_mismatch";

/**
 * TVL from the chain by a full scan (getProgramAccounts and every token account): backed USDT only. No job runs it
 * any more — at 100,000 vaults its answer is tens of megabytes; the TVL job reads the cache and reconciliation
 * computes the chain's TVL chunk by chunk — but tests and the benchmark use it as the chain's figure to compare with. Every vault whose token account holds the configured mint counts with the
 * part of its recorded total that its token account really holds (an inflated balance, bug §8.2, adds nothing);
 * vaults of other mints never count (§8.5). Also the sums of the recorded totals, locked and available balances, and
 * of the token accounts' real amounts.
 */
export async function computeTvl(services: Services): Promise<TvlTotals> {
  const { rpc, config } = services;
  const scan = await scanVaults(rpc, config.programId);
  const tokens = await readAccountsMany(rpc, [...new Set(scan.vaults.map((v) => v.tokenAccount))], scan.slot);
  const totals: TvlTotals = {
    totalValueLocked: 0n,
    recordedTotal: 0n,
    totalLocked: 0n,
    totalAvailable: 0n,
    tokenAccountTotal: 0n,
    activeVaults: 0,
    otherMintVaults: 0,
    slot: scan.slot,
  };
  const usdt = config.usdtMint.toBase58();
  for (const vault of scan.vaults) {
    const token = decodeTokenAccount(tokens.accounts.get(vault.tokenAccount) ?? null);
    const b = backing({ totalBalance: vault.totalBalance, ...tokenColumns(token, BigInt(tokens.slot)) }, usdt);
    if (!b.isUsdt) {
      totals.otherMintVaults++;
      continue;
    }
    totals.activeVaults++;
    totals.totalValueLocked += b.backedBalance;
    totals.recordedTotal += vault.totalBalance;
    totals.totalLocked += vault.lockedBalance;
    totals.totalAvailable += vault.availableBalance;
    totals.tokenAccountTotal += b.tokenAccountBalance ?? 0n;
  }
  return totals;
}

/**
 * Writes a `tvl_snapshots` row per run from the vault cache (one SQL statement, no RPC: current to the ingestion lag
 * at any number of vaults); alerts while the recorded totals and the token accounts disagree.
 */
export const tvlJob: Job = {
  name: "tvl",
  async run(_env, _ctx, services) {
    const { db } = services.db();
    const totals = await cacheTvl(db, services.config.usdtMint.toBase58());
    const slot = totals.slot ?? 0n;
    await db.insert(tvlSnapshots).values({
      totalValueLocked: totals.totalValueLocked,
      recordedTotal: totals.recordedTotal,
      totalLocked: totals.totalLocked,
      totalAvailable: totals.totalAvailable,
      tokenAccountTotal: totals.tokenAccountTotal,
      activeVaults: totals.activeVaults,
      slot,
    });
    const difference = totals.tokenAccountTotal - totals.recordedTotal;
    if (difference === 0n) await resolveAlert(db, MISMATCH_KEY);
    else {
      await raiseAlert(db, {
        kind: "tvl_token_mismatch",
        severity: "warning",
        dedupKey: MISMATCH_KEY,
        message: `Vault token accounts hold ${totals.tokenAccountTotal} but vaults record ${totals.recordedTotal} (slot ${slot})`,
        details: {
          slot: `${slot}`,
          recordedTotal: `${totals.recordedTotal}`,
          tokenAccountTotal: `${totals.tokenAccountTotal}`,
          difference: `${difference}`,
        },
      });
    }
    return { ...totals, slot: Number(slot), tokenMinusRecorded: difference, source: "cache" };
  },
};
