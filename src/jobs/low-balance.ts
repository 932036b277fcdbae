import { and, eq, gte, lt, ne, sql } from "drizzle-orm";
import { alerts, vaults } from "../db/schema.ts";
import { formatUsdt } from "../lib/amount.ts";
import { raiseAlert, resolveAlerts } from "../platform/alerts.ts";
import type { Job } from "./types.ts";

export const LOW_BALANCE_KIND = "low_balance";
export const lowBalanceKey = (owner: string) => `${LOW_BALANCE_KIND}:${owner}`;
/** `lowBalanceKey` of a cached vault's owner, in SQL. */
const vaultKey = sql`${LOW_BALANCE_KIND} || ':' || ${vaults.owner}`;
/** Alerts raised per run at most (a market-wide drop raises the rest over the next runs; the run says `partial`). */
export const LOW_BALANCE_MAX_RAISES = 500;

/**
 * Low-balance monitor, from the vault cache (SQL, no RPC): a vault that has ever been funded (total_deposited > 0)
 * and whose total balance is below LOW_BALANCE_THRESHOLD whole USDT gets one alert per condition (dedup key per
 * owner); the alert is resolved when the balance recovers, so a later drop alerts again. Never-funded vaults are not
 * "low", only empty. Current to the ingestion lag (the cache is what ingestion and reconciliation keep).
 */
export const lowBalanceJob: Job = {
  name: "low-balance",
  async run(_env, _ctx, services) {
    const { db } = services.db();
    const threshold = services.config.lowBalanceThreshold * 1_000_000n;
    const openAlert = sql`exists (select 1 from ${alerts} a where a.dedup_key = ${vaultKey} and a.status <> 'resolved')`;
    const newlyLow = await db
      .select({ owner: vaults.owner, total: vaults.totalBalance, slot: vaults.slot })
      .from(vaults)
      .where(and(sql`${vaults.totalDeposited} > 0`, lt(vaults.totalBalance, threshold), sql`not ${openAlert}`))
      .orderBy(vaults.owner)
      .limit(LOW_BALANCE_MAX_RAISES + 1);
    let raised = 0;
    for (const v of newlyLow.slice(0, LOW_BALANCE_MAX_RAISES)) {
      const id = await raiseAlert(db, {
        kind: LOW_BALANCE_KIND,
        severity: "warning",
        owner: v.owner,
        dedupKey: lowBalanceKey(v.owner),
        message: `Vault balance ${formatUsdt(v.total)} is below ${formatUsdt(threshold)}`,
        details: { slot: `${v.slot}`, totalBalance: `${v.total}`, threshold: `${threshold}` },
      });
      if (id !== null) raised++;
    }
    // Open alerts whose vault recovered (or left the cache).
    const recovered = await db
      .select({ key: alerts.dedupKey })
      .from(alerts)
      .leftJoin(vaults, sql`${alerts.dedupKey} = ${vaultKey}`)
      .where(
        and(
          eq(alerts.kind, LOW_BALANCE_KIND),
          ne(alerts.status, "resolved"),
          sql`(${vaults.owner} is null or ${gte(vaults.totalBalance, threshold)} or ${vaults.totalDeposited} = 0)`,
        ),
      );
    const resolved = await resolveAlerts(
      db,
      recovered.map((r) => r.key),
    );
    const [{ low } = { low: 0 }] = await db
      .select({ low: sql<number>`count(*)::int` })
      .from(vaults)
      .where(and(sql`${vaults.totalDeposited} > 0`, lt(vaults.totalBalance, threshold)));
    return {
      low: Number(low),
      raised,
      resolved,
      threshold,
      source: "cache",
      partial: newlyLow.length > LOW_BALANCE_MAX_RAISES,
    };
  },
};
