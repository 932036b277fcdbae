/** What each owner's sockets are told after a batch commits (payloads built by realtime/events.ts). */
import { and, eq, inArray, or, sql } from "drizzle-orm";
import { socketSubscribers } from "../db/schema.ts";
import type { Bindings, Services } from "../env.ts";
import { chunks } from "../lib/chunks.ts";
import {
  balanceUpdate,
  collateralMoved,
  collateralTransferred,
  type OwnerEvent,
  transactionConfirmed,
  transactionFailed,
} from "../realtime/events.ts";
import { type PublishReply, publishToOwner } from "../realtime/publish.ts";
import type { BatchResult, CommittedTx, StoredRow } from "./store.ts";

/** Per-owner events for a committed batch, in chain order, then one balance_update per changed vault. */
export function batchEvents(result: BatchResult): Map<string, OwnerEvent[]> {
  const out = new Map<string, OwnerEvent[]>();
  const push = (owner: string, e: OwnerEvent) => {
    const list = out.get(owner) ?? [];
    list.push(e);
    out.set(owner, list);
  };
  for (const c of result.committed) {
    const tx = c.decoded.tx;
    if (c.failure) {
      const f = c.failure;
      const error = { code: f.code ?? null, name: f.name, message: f.message, instructionIndex: f.instructionIndex };
      for (const owner of f.owners) push(owner, transactionFailed(tx, owner, f.requestIds.get(owner) ?? null, error));
      continue;
    }
    for (const row of c.rows) {
      push(row.owner, transactionConfirmed(tx, row));
      const specific = specificEvent(c, row);
      if (specific) push(row.owner, specific);
    }
  }
  for (const v of result.vaults) push(v.owner, balanceUpdate(v));
  return out;
}

/** collateral_locked / _unlocked / _transferred with the event's own figures. */
function specificEvent(c: CommittedTx, row: StoredRow): OwnerEvent | null {
  const found = c.decoded.events.find((e) => e.index === row.eventIndex);
  if (!found) return null;
  const tx = c.decoded.tx;
  const { event } = found;
  if (event.name === "LockCollateralEvent" || event.name === "UnlockCollateralEvent") {
    const by = event.name === "LockCollateralEvent" ? event.data.lockedBy : event.data.unlockedBy;
    return collateralMoved(event.name === "LockCollateralEvent" ? "locked" : "unlocked", tx, row, {
      vault: event.data.vault.toBase58(),
      amount: event.data.amount,
      lockedBalance: event.data.newLockedBalance,
      availableBalance: event.data.newAvailableBalance,
      authority: by.toBase58(),
    });
  }
  if (event.name === "TransferCollateralEvent") {
    return collateralTransferred(tx, row, {
      amount: event.data.amount,
      reason: event.data.reason,
      fromVault: event.data.fromVault.toBase58(),
      toVault: event.data.toVault.toBase58(),
      authority: event.data.transferredBy.toBase58(),
    });
  }
  return null;
}

/** Owner hubs called at once: each owner gets one call per batch, so only the per-owner order matters. */
const PUBLISH_CONCURRENCY = 32;

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

/**
 * Hands the events to the hubs of the owners that listen (up to PUBLISH_CONCURRENCY calls in flight); an owner who
 * does not listen gets no hub call — their history and a next connection's snapshot show the change. The batch is
 * already committed, so a hub that cannot be reached is logged, not retried forever. Returns the failed count.
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
  const silent: string[] = [];
  const back: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const [owner, events] = entries[next++]!;
      try {
        let reply: PublishReply;
        try {
          reply = await publishToOwner(env, owner, events);
        } catch {
          reply = await publishToOwner(env, owner, events);
        }
        const believedOpen = listening.get(owner) === true;
        if (reply.sockets === 0 && believedOpen) silent.push(owner);
        if (reply.sockets !== null && reply.sockets > 0 && !believedOpen) back.push(owner);
      } catch (err) {
        failed++;
        log.warn("could not publish to owner hub", { owner, events: events.length, error: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, entries.length) }, worker));
  if (silent.length > 0 || back.length > 0) await recordSockets(services, silent, back);
  return failed;
}
