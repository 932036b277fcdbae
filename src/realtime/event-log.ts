/** The owner hub's event log in Durable Object storage: every event gets a seq and is stored before it is pushed. */
import type { OwnerEvent } from "./events.ts";

/** The socket envelope (data as held: u64 values are bigint until `toJson` writes them). */
export interface StoredEvent {
  event: string;
  data: OwnerEvent["data"];
  timestamp: string;
  /** The owner's sequence number: consecutive, in the order the hub stored the events. */
  seq: number;
  /** The chain slot the event reflects (the transaction's, or the read's for a balance); null when none. */
  slot: number | bigint | null;
  /** The commitment the event was observed at; null for events that are not chain observations (alerts). */
  commitment: "confirmed" | "finalized" | null;
}

/** The slot an event reflects, from its payload. */
export function eventSlot(e: OwnerEvent): number | bigint | null {
  const slot = (e.data as { slot?: unknown }).slot;
  return typeof slot === "number" || typeof slot === "bigint" ? slot : null;
}

/** The commitment an event was observed at. */
export function eventCommitment(e: OwnerEvent): StoredEvent["commitment"] {
  if (e.event === "transaction_finalized") return "finalized";
  if (e.event === "alert" || e.event === "transaction_expired") return null;
  return "confirmed";
}

/** Events kept for `?since=` replay; an older `since` gets a "resync" message instead. */
export const RETAINED_EVENTS = 1_000;
const SEQ_KEY = "seq";
const GAP_KEY = "gap";
const EVENT_PREFIX = "event:";
// DO storage takes at most 128 keys per put/delete call.
const KEYS_PER_CALL = 128;

function eventKey(seq: number): string {
  return `${EVENT_PREFIX}${seq.toString().padStart(12, "0")}`;
}

/** The last assigned seq (0 before the first event). */
export async function latestSeq(storage: DurableObjectStorage): Promise<number> {
  return (await storage.get<number>(SEQ_KEY)) ?? 0;
}

/** The oldest retained seq, or null when nothing is stored. */
export async function oldestSeq(storage: DurableObjectStorage): Promise<number | null> {
  const first = await storage.list<StoredEvent>({ prefix: EVENT_PREFIX, limit: 1 });
  for (const value of first.values()) return value.seq;
  return null;
}

/**
 * Assigns the next seqs and stores the events, then drops what falls out of retention. The puts are issued without
 * an intervening await, so the Durable Object commits them (events and the new seq) together.
 */
export async function appendEvents(storage: DurableObjectStorage, events: OwnerEvent[]): Promise<StoredEvent[]> {
  const last = await latestSeq(storage);
  const timestamp = new Date().toISOString();
  const stored = events.map(
    (e, i): StoredEvent => ({
      event: e.event,
      data: e.data,
      timestamp,
      seq: last + i + 1,
      slot: eventSlot(e),
      commitment: eventCommitment(e),
    }),
  );
  const writes: Promise<void>[] = [];
  for (let i = 0; i < stored.length; i += KEYS_PER_CALL - 1) {
    const entries: Record<string, unknown> = {};
    for (const e of stored.slice(i, i + KEYS_PER_CALL - 1)) entries[eventKey(e.seq)] = e;
    writes.push(storage.put(entries));
  }
  writes.push(storage.put(SEQ_KEY, last + stored.length));
  await Promise.all(writes);
  await prune(storage, last + stored.length);
  return stored;
}

async function prune(storage: DurableObjectStorage, newest: number): Promise<void> {
  const keepFrom = newest - RETAINED_EVENTS + 1;
  if (keepFrom <= 1) return;
  const old = await storage.list({ prefix: EVENT_PREFIX, end: eventKey(keepFrom), limit: 1_000 });
  const keys = [...old.keys()];
  const deletes: Promise<number>[] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_CALL) deletes.push(storage.delete(keys.slice(i, i + KEYS_PER_CALL)));
  await Promise.all(deletes);
}

/** Stored events with seq > `after`, oldest first. */
export async function eventsAfter(storage: DurableObjectStorage, after: number): Promise<StoredEvent[]> {
  const listed = await storage.list<StoredEvent>({ prefix: EVENT_PREFIX, start: eventKey(after + 1) });
  return [...listed.values()];
}

/**
 * Marks that events up to now may be missing from the log (they were not published while nobody had subscribed):
 * a `since` at or before this seq cannot be replayed exactly.
 */
export async function markGap(storage: DurableObjectStorage): Promise<void> {
  await storage.put(GAP_KEY, await latestSeq(storage));
}

/** The last gap mark (null when the log never had one). */
export async function gapSeq(storage: DurableObjectStorage): Promise<number | null> {
  return (await storage.get<number>(GAP_KEY)) ?? null;
}
