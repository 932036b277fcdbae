import { sql } from "drizzle-orm";
import { balanceSnapshots, vaults } from "../db/schema.ts";
import type { Job } from "./types.ts";

/** Even an unchanged vault gets a snapshot this often, so every history has at least one point per day. */
export const SNAPSHOT_HEARTBEAT_MS = 24 * 60 * 60 * 1000;

/**
 * Balance snapshots from the vault cache, in one SQL statement and no RPC: a row per cached vault whose balances
 * differ from its last point, or whose last point is older than a day. Ingestion already writes a point for every
 * step it commits (src/ingest/balance-points.ts), so this job adds the daily heartbeat of quiet vaults and the
 * repairs reconciliation made to the cache; at 100,000 vaults it reads the cache and one index entry per vault.
 */
export const balanceSnapshotsJob: Job = {
  name: "balance-snapshots",
  async run(_env, _ctx, services) {
    const { db } = services.db();
    const heartbeat = SNAPSHOT_HEARTBEAT_MS / 1000;
    const result = await db.execute(sql`
      with written as (
        insert into ${balanceSnapshots} (owner, total_balance, locked_balance, available_balance, slot, taken_at)
        select v.owner, v.total_balance, v.locked_balance, v.available_balance, v.slot, now()
        from ${vaults} v
        left join lateral (
          select s.total_balance, s.locked_balance, s.available_balance, s.taken_at
          from ${balanceSnapshots} s
          where s.owner = v.owner
          order by s.taken_at desc, s.id desc
          limit 1
        ) last on true
        where last.taken_at is null
          or last.taken_at < now() - make_interval(secs => ${heartbeat})
          or last.total_balance <> v.total_balance
          or last.locked_balance <> v.locked_balance
          or last.available_balance <> v.available_balance
        returning 1
      )
      select (select count(*) from written)::int as written, (select count(*) from ${vaults})::int as vaults`);
    const row = (result as unknown as { rows: { written: number; vaults: number }[] }).rows[0]!;
    return { vaults: Number(row.vaults), written: Number(row.written), source: "cache" };
  },
};
