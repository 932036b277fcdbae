/**
 * Fan-out of one batch's events to many owner hubs, off the caller's invocation. A Workers invocation may make
 * 1,000 subrequests, and each Durable Object call is one: an ingestion pass that called every listening owner's hub
 * itself would near that cap at about 9,000 listeners. Above a few dozen listeners, the caller makes one call here
 * instead; this object delivers to at most LEAF_OWNERS hubs itself and hands larger sets to other shards, LEAF_OWNERS
 * owners each (a two-level tree: 100,000 listeners are 250 leaf calls, each inside its own request's limit).
 * Stateless: any shard can serve any batch. The caller awaits the delivery, so batch N's events reach every hub
 * before batch N+1's (per-owner order is the caller's order, whatever shard carries it).
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env.ts";
import { chunks } from "../lib/chunks.ts";
import type { OwnerEvent } from "./events.ts";
import { type PublishReply, publishToOwner } from "./publish.ts";

/** Hubs one fan-out request calls itself (well under a request's 1,000 subrequests, retries included). */
export const LEAF_OWNERS = 400;
/** Fan-out objects; a batch goes to one chosen at random, its overflow to the others. */
export const FANOUT_SHARDS = 16;
/** Hub calls in flight per fan-out request. */
const CONCURRENCY = 32;

/** One owner's delivery: what the hub answered (`sockets` null when it could not be reached). */
export interface Delivery {
  owner: string;
  ok: boolean;
  sockets: number | null;
}

export class PublishFanout extends DurableObject<Bindings> {
  /** Delivers each owner's events to the owner's hub (with one retry); returns one delivery per owner. */
  async deliver(entries: [string, OwnerEvent[]][]): Promise<Delivery[]> {
    if (!Array.isArray(entries) || entries.length === 0) return [];
    if (entries.length <= LEAF_OWNERS) return deliverToHubs(this.env, entries);
    const parts = chunks(entries, LEAF_OWNERS);
    const start = Math.floor(Math.random() * FANOUT_SHARDS);
    const replies = await Promise.all(
      parts.map(async (part, i) => {
        try {
          return await publishFanout(this.env, (start + i) % FANOUT_SHARDS).deliver(part);
        } catch {
          // A shard that fails as a whole: its owners are delivered from here, CONCURRENCY at a time.
          return deliverToHubs(this.env, part);
        }
      }),
    );
    return replies.flat();
  }
}

/** Calls each owner's hub, CONCURRENCY at a time, retrying once. */
export async function deliverToHubs(env: Bindings, entries: [string, OwnerEvent[]][]): Promise<Delivery[]> {
  const out: Delivery[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      const [owner, events] = entries[i]!;
      let reply: PublishReply | null = null;
      try {
        reply = await publishToOwner(env, owner, events);
      } catch {
        try {
          reply = await publishToOwner(env, owner, events);
        } catch {
          reply = null;
        }
      }
      out[i] = { owner, ok: reply !== null, sockets: reply?.sockets ?? null };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
  return out;
}

/** A fan-out shard's stub. */
export function publishFanout(env: Bindings, shard: number): DurableObjectStub<PublishFanout> {
  return env.PUBLISH_FANOUT.get(env.PUBLISH_FANOUT.idFromName(`fanout:${shard % FANOUT_SHARDS}`));
}
