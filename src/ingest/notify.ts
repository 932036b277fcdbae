/** What each owner's sockets are told after a batch commits (payloads built by realtime/events.ts). */
import { and, eq, inArray, or, sql } from "drizzle-orm";
import { socketSubscribers } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { chunks } from "../lib/chunks.ts";
import type { Services } from "../platform/services.ts";
import type { OwnerEvent } from "../realtime/events.ts";
import { type Delivery, deliverToHubs, FANOUT_SHARDS, publishFanout } from "../realtime/publish-fanout.ts";

/** Owners looked up per statement when filtering by subscription. */
const OWNERS_PER_QUERY = 1_000;

type PublishServices = Pick<Services, "reads" | "log" | "config">;

/**
 * The owners among `owners` that listen now — a socket open (as far as the backend knows) or one closed less than
 * SUBSCRIPTION_TTL ago — each with whether a socket is believed open. When the lookup fails every owner counts as
 * listening: a hub call too many costs little, a skipped one would leave a listening socket silent.
 */
export async function listeners(services: PublishServices, owners: string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  const ttl = services.config.subscriptionTtlSec;
  try {
    for (const part of chunks(owners, OWNERS_PER_QUERY)) {
      const rows = await services
        .reads()
        .select({ owner: socketSubscribers.owner, hasSockets: socketSubscribers.hasSockets })
        .from(socketSubscribers)
        .where(
          and(
            inArray(socketSubscribers.owner, part),
            or(
              eq(socketSubscribers.hasSockets, true),
              sql`${socketSubscribers.lastSocketAt} > now() - make_interval(secs => ${ttl})`,
            ),
          ),
        );
      for (const r of rows) out.set(r.owner, r.hasSockets);
    }
    return out;
  } catch (err) {
    services.log.warn("subscriptions unreadable; publishing to every owner", { error: err });
    return new Map(owners.map((owner) => [owner, true]));
  }
}

/** The owners among `owners` that listen now (see `listeners`). */
export async function subscribedOwners(services: PublishServices, owners: string[]): Promise<Set<string>> {
  return new Set((await listeners(services, owners)).keys());
}

/**
 * Corrects what the backend believes of owners' sockets from the hubs' answers to a publish: owners whose hub had
 * none start to age (SUBSCRIPTION_TTL later ingestion stops calling their hub); owners believed gone whose hub does
 * have a socket are listeners again. A failure only delays the correction.
 */
export async function recordSockets(services: PublishServices, without: string[], withAgain: string[]): Promise<void> {
  try {
    for (const part of chunks(without, OWNERS_PER_QUERY)) {
      await services
        .reads()
        .update(socketSubscribers)
        .set({ hasSockets: false, lastSocketAt: sql`now()` })
        .where(and(inArray(socketSubscribers.owner, part), eq(socketSubscribers.hasSockets, true)));
    }
    for (const part of chunks(withAgain, OWNERS_PER_QUERY)) {
      await services
        .reads()
        .update(socketSubscribers)
        .set({ hasSockets: true, lastSocketAt: sql`now()` })
        .where(inArray(socketSubscribers.owner, part));
    }
  } catch (err) {
    services.log.warn("subscriptions not updated", { error: err });
  }
}

/** Listeners of one batch that an invocation calls directly; more go through one fan-out call. */
const DIRECT_MAX = 32;
/** Direct hub calls one invocation makes at most, over all its batches; beyond, every batch goes through fan-out. */
const INVOCATION_DIRECT_BUDGET = 300;
/** Direct hub calls made so far, per invocation (its services object). */
const directCalls = new WeakMap<object, number>();

/**
 * Hands the events to the hubs of the owners that listen; an owner who does not listen gets no hub call — their
 * history and a next connection's snapshot show the change. A batch with few listeners is delivered directly (up to
 * 32 calls in flight); a larger one, or any batch once the invocation has made INVOCATION_DIRECT_BUDGET direct calls,
 * costs the invocation a single call to a `PublishFanout` object, which spreads it over hubs in its own requests —
 * so an invocation's Durable Object calls stay bounded (≤ 300 + one per batch) whatever the number of listeners.
 * The batch is already committed, so a hub that cannot be reached is logged, not retried forever. Returns the failed
 * count.
 */
export async function publishAll(
  env: Bindings,
  services: PublishServices,
  byOwner: Map<string, OwnerEvent[]>,
): Promise<number> {
  const { log } = services;
  if (byOwner.size === 0) return 0;
  const listening = await listeners(services, [...byOwner.keys()]);
  const entries = [...byOwner.entries()].filter(([owner]) => listening.has(owner));
  if (entries.length === 0) return 0;
  const used = directCalls.get(services) ?? 0;
  let deliveries: Delivery[];
  if (entries.length <= DIRECT_MAX && used + entries.length <= INVOCATION_DIRECT_BUDGET) {
    directCalls.set(services, used + entries.length);
    deliveries = await deliverToHubs(env, entries);
  } else {
    deliveries = await fanOut(env, entries).catch(async () => {
      // One more try on another shard before the batch's events are given up for these sockets.
      try {
        return await fanOut(env, entries);
      } catch (err) {
        log.warn("could not publish through fan-out", { owners: entries.length, error: err });
        return entries.map(([owner]) => ({ owner, ok: false, sockets: null }));
      }
    });
  }
  const silent: string[] = [];
  const back: string[] = [];
  let failed = 0;
  for (const d of deliveries) {
    if (!d.ok) {
      failed++;
      log.warn("could not publish to owner hub", { owner: d.owner, events: byOwner.get(d.owner)?.length ?? 0 });
      continue;
    }
    const believedOpen = listening.get(d.owner) === true;
    if (d.sockets === 0 && believedOpen) silent.push(d.owner);
    if (d.sockets !== null && d.sockets > 0 && !believedOpen) back.push(d.owner);
  }
  if (silent.length > 0 || back.length > 0) await recordSockets(services, silent, back);
  return failed;
}

function fanOut(env: Bindings, entries: [string, OwnerEvent[]][]): Promise<Delivery[]> {
  return publishFanout(env, Math.floor(Math.random() * FANOUT_SHARDS)).deliver(entries);
}
