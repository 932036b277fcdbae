import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../../env.ts";

/** One counter increment: metric name, canonical label key (labels.ts), amount. */
export type CounterDelta = [name: string, labels: string, value: number];

export interface MetricsSnapshot {
  counters: Array<{ name: string; labels: string; value: number }>;
  /** Sockets open across all owners' hubs, and how many owners have at least one. */
  openSockets: number;
  socketOwners: number;
}

/**
 * The counters that must outlive one invocation — builds and relays by outcome, RPC use by method, ingested
 * transactions, job runs — and the open-socket count of every owner's hub, in one singleton Durable Object's SQLite
 * storage. Invocations send their increments once, as they end (`ctx.waitUntil` for requests), so a user request
 * never waits for it. Called through typed RPC only.
 */
export class Metrics extends DurableObject<Bindings> {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "create table if not exists counters (name text not null, labels text not null, value real not null, primary key (name, labels))",
    );
    ctx.storage.sql.exec(
      "create table if not exists sockets (owner text primary key, open integer not null, updated_at integer not null)",
    );
  }

  /** Adds one invocation's increments. */
  async add(deltas: CounterDelta[]): Promise<void> {
    for (const [name, labels, value] of deltas) {
      // A zero registers the series (the collector sends zeros only for counters that must exist from their first event).
      if (!Number.isFinite(value) || value < 0) continue;
      this.ctx.storage.sql.exec(
        "insert into counters (name, labels, value) values (?, ?, ?) on conflict (name, labels) do update set value = value + excluded.value",
        name,
        labels,
        value,
      );
    }
  }

  /** An owner's hub reports how many sockets it holds now (a set, not an increment: a missed report heals). */
  async setOpenSockets(owner: string, open: number): Promise<void> {
    if (open > 0) {
      this.ctx.storage.sql.exec(
        "insert into sockets (owner, open, updated_at) values (?, ?, ?) on conflict (owner) do update set open = excluded.open, updated_at = excluded.updated_at",
        owner,
        open,
        Date.now(),
      );
    } else this.ctx.storage.sql.exec("delete from sockets where owner = ?", owner);
  }

  async read(): Promise<MetricsSnapshot> {
    const counters = this.ctx.storage.sql
      .exec<{ name: string; labels: string; value: number }>(
        "select name, labels, value from counters order by name, labels",
      )
      .toArray()
      .map((r) => ({ name: r.name, labels: r.labels, value: r.value }));
    const [sockets] = this.ctx.storage.sql
      .exec<{ open: number; owners: number }>("select coalesce(sum(open), 0) as open, count(*) as owners from sockets")
      .toArray();
    return { counters, openSockets: sockets?.open ?? 0, socketOwners: sockets?.owners ?? 0 };
  }
}
