import { and, eq, ne } from "drizzle-orm";
import { alerts } from "../db/schema.ts";
import { formatUsdt } from "../lib/amount.ts";
import { raiseAlert, resolveAlerts } from "../monitor/alerts.ts";
import type { Job } from "./types.ts";
import { scanVaults } from "./vault-scan.ts";

export const LOW_BALANCE_KIND = "low_balance";
export const lowBalanceKey = (owner: string) => `${LOW_BALANCE_KIND}:${owner}`;

/**
 * Low-balance monitor: a vault that has ever been funded (total_deposited > 0) and whose total balance is below
 * LOW_BALANCE_THRESHOLD whole USDT gets one alert per condition (dedup key per owner); the alert is resolved when
 * the balance recovers, so a later drop alerts again. Never-funded vaults are not "low", only empty.
 */
export const lowBalanceJob: Job = {
  name: "low-balance",
  async run(_env, _ctx, services) {
    const { db } = services.db();
    const threshold = services.config.lowBalanceThreshold * 1_000_000n;
    const scan = await scanVaults(services.rpc, services.config.programId);
    const low = new Map(
      scan.vaults.filter((v) => v.totalDeposited > 0n && v.totalBalance < threshold).map((v) => [v.owner, v]),
    );
    const open = await db
      .select({ owner: alerts.owner })
      .from(alerts)
      .where(and(eq(alerts.kind, LOW_BALANCE_KIND), ne(alerts.status, "resolved")));
    const alerted = new Set(open.map((a) => a.owner ?? ""));
    let raised = 0;
    for (const [owner, v] of low) {
      if (alerted.has(owner)) continue;
      const id = await raiseAlert(db, {
        kind: LOW_BALANCE_KIND,
        severity: "warning",
        owner,
        dedupKey: lowBalanceKey(owner),
        message: `Vault balance ${formatUsdt(v.totalBalance)} is below ${formatUsdt(threshold)}`,
        details: { slot: scan.slot, totalBalance: `${v.totalBalance}`, threshold: `${threshold}` },
      });
      if (id !== null) raised++;
    }
    const recovered = [...alerted].filter((owner) => !low.has(owner));
    const resolved = await resolveAlerts(db, recovered.map(lowBalanceKey));
    return { vaults: scan.vaults.length, low: low.size, raised, resolved, threshold, slot: scan.slot };
  },
};
