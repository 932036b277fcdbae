import type { Bindings } from "../env.ts";
import { ownerHub } from "./owner-hub.ts";

/** Names of the events pushed to an owner's WebSockets. */
export type OwnerEventName =
  | "balance_update"
  | "transaction_confirmed"
  | "transaction_finalized"
  | "transaction_failed"
  | "transaction_expired"
  | "collateral_locked"
  | "collateral_unlocked"
  | "collateral_transferred"
  | "alert";

export interface OwnerEvent {
  event: OwnerEventName;
  data: Record<string, unknown>;
}

/**
 * Hands events to the owner's VaultOwnerHub, which stores each (assigning its `seq`) before pushing it to the
 * owner's sockets. Values must already be JSON-safe (bigint amounts as strings or exact literals via toJson).
 */
export async function publishToOwner(env: Bindings, owner: string, events: OwnerEvent[]): Promise<PublishReply> {
  if (events.length === 0) return { published: 0, sockets: null };
  const res = await ownerHub(env, owner).fetch("https://owner-hub/publish", {
    method: "POST",
    body: JSON.stringify({ owner, events }),
  });
  // Always read the body: an unread response keeps the subrequest open, and an open subrequest pins the hub awake
  // (it cannot hibernate or be evicted while a caller still holds a reference to it).
  const text = await res.text();
  if (!res.ok) throw new Error(`owner hub refused events: ${res.status} ${text.slice(0, 200)}`);
  const reply = JSON.parse(text) as { published?: unknown; sockets?: unknown };
  return {
    published: typeof reply.published === "number" ? reply.published : 0,
    sockets: typeof reply.sockets === "number" ? reply.sockets : null,
  };
}

/** The hub's answer: the last seq it stored, and how many sockets were open (null when it did not say). */
export interface PublishReply {
  published: number;
  sockets: number | null;
}
