import type { Bindings } from "../env.ts";
import { ownerHub } from "../platform/stubs.ts";
import type { OwnerEvent } from "./events.ts";

export type { OwnerEvent, OwnerEventName } from "./events.ts";

/** The hub's answer: the last seq it stored, and how many sockets were open (null when it did not say). */
export interface PublishReply {
  published: number;
  sockets: number | null;
}

/**
 * Hands events to the owner's VaultOwnerHub (typed Durable Object RPC: bigint amounts cross as they are), which
 * stores each (assigning its `seq`) before pushing it to the owner's sockets.
 */
export async function publishToOwner(env: Bindings, owner: string, events: OwnerEvent[]): Promise<PublishReply> {
  if (events.length === 0) return { published: 0, sockets: null };
  return await ownerHub(env, owner).publishEvents(events);
}
