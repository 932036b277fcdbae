import { desc, gt, sql } from "drizzle-orm";
import { balanceSnapshots } from "../db/schema.ts";
import type { Job } from "./types.ts";
import { scanVaults } from "./vault-scan.ts";

/** Even an unchanged vault gets a snapshot this often, so every history has at least one point per day. */
export const SNAPSHOT_HEARTBEAT_MS = 24 * 60 * 60 * 1000;
const INSERT_CHUNK = 1_000;

/**
 * Balance snapshots from the chain (one getProgramAccounts at one slot): a row per vault whose balance differs from
 * its last snapshot, or whose last snapshot is older than a day.
 */
export const balanceSnapshotsJob: Job = {
  name: "balance-snapshots",
  async run(_env, _ctx, services) {
    const { db } = services.db();
    const scan = await scanVaults(services.rpc, services.config.programId);
    const since = new Date(Date.now() - SNAPSHOT_HEARTBEAT_MS);
    const last = await db
      .selectDistinctOn([balanceSnapshots.owner], {
        owner: balanceSnapshots.owner,
        total: balanceSnapshots.totalBalance,
        locked: balanceSnapshots.lockedBalance,
        available: balanceSnapshots.availableBalance,
      })
      .from(balanceSnapshots)
      .where(gt(balanceSnapshots.takenAt, since))
      .orderBy(balanceSnapshots.owner, desc(balanceSnapshots.takenAt), desc(balanceSnapshots.id));
    const previous = new Map(last.map((r) => [r.owner, r]));
    let changed = 0;
    const rows = scan.vaults.flatMap((v) => {
      const p = previous.get(v.owner);
      if (p && p.total === v.totalBalance && p.locked === v.lockedBalance && p.available === v.availableBalance) {
        return [];
      }
      if (p) changed++;
      return [
        {
          owner: v.owner,
          totalBalance: v.totalBalance,
          lockedBalance: v.lockedBalance,
          availableBalance: v.availableBalance,
          slot: BigInt(scan.slot),
          takenAt: sql`now()`,
        },
      ];
    });
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await db.insert(balanceSnapshots).values(rows.slice(i, i + INSERT_CHUNK));
    }
    return { vaults: scan.vaults.length, written: rows.length, changed, slot: scan.slot };
  },
};
