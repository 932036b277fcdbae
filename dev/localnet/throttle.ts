/**
 * What a provider does to each JSON-RPC item on its way in and out: the per-second budgets (each batch item counts;
 * sendTransaction and getProgramAccounts have budgets of their own), a node that is behind the tip, the history
 * horizon of getTransaction and the size cap of getProgramAccounts.
 */
import type { SlotClock } from "./clock.ts";
import type { Chain } from "./engine.ts";
import { Bucket, type Profile } from "./profile.ts";
import type { RpcReply } from "./rpc.ts";
import type { Front } from "./server.ts";

/** Counters of what a front answered (shown by /localnet/info). */
export interface Served {
  requests: number;
  items: number;
  /** Items refused for the budget (HTTP 429 or a per-item 429 error). */
  rateLimited: number;
  /** HTTP requests answered by a lagging node. */
  lagged: number;
  /** getTransaction answers withheld by the history horizon. */
  pruned: number;
}

export interface Meter {
  items: Bucket | null;
  send: Bucket | null;
  gpa: Bucket | null;
  served: Served;
}

/** Buckets for a profile (full at start), keeping the counters of the meter it replaces. */
export function newMeter(p: Profile, now: number, served?: Served): Meter {
  const bucket = (perSecond: number) => (perSecond > 0 ? new Bucket(perSecond, now) : null);
  return {
    items: bucket(p.requestsPerSecond),
    send: bucket(p.sendPerSecond),
    gpa: bucket(p.gpaPerSecond),
    served: served ?? { requests: 0, items: 0, rateLimited: 0, lagged: 0, pruned: 0 },
  };
}

function methodOf(item: unknown): string | null {
  return item && typeof item === "object" && typeof (item as { method?: unknown }).method === "string"
    ? (item as { method: string }).method
    : null;
}

/**
 * Charges each item of a request against the budgets, in order: an item is served when the general bucket and its
 * method's bucket both have a token; the others are marked limited. `retryAfterSec` is for a refused request.
 */
export function chargeItems(meter: Meter, items: unknown[], now: number) {
  meter.served.requests++;
  meter.served.items += items.length;
  const limited = items.map((item) => {
    const method = methodOf(item);
    const own = method === "sendTransaction" ? meter.send : method === "getProgramAccounts" ? meter.gpa : null;
    const fits = (!meter.items || meter.items.available(now) >= 1) && (!own || own.available(now) >= 1);
    if (!fits) return true;
    meter.items?.take(1);
    own?.take(1);
    return false;
  });
  const refused = limited.filter(Boolean).length;
  meter.served.rateLimited += refused;
  const retryAfterSec = Math.max(1, meter.items?.retryAfterSec(now) ?? 1);
  return { limited, served: items.length - refused, retryAfterSec };
}

/** The error a provider answers for an item beyond the budget (also the body of an HTTP 429). */
export function answerLimited(item: unknown): RpcReply {
  const id = item && typeof item === "object" ? ((item as { id?: unknown }).id ?? null) : null;
  return {
    jsonrpc: "2.0",
    error: { code: 429, message: "Too many requests for a specific RPC call (localnet provider budget)" },
    id: typeof id === "string" || typeof id === "number" ? id : null,
  };
}

/**
 * The chain as a node `slots` behind the tip sees it: its slots, commitments, blockhashes and history stop there
 * (account data stays the latest state — the localnet keeps no older states — but is reported at the older slot).
 * A prototype view: every read goes to the real chain except the clock's position. A transaction it is sent still
 * lands (the node forwards it to the leader, which is at the tip); only its preflight simulation is behind.
 */
export function laggedView(chain: Chain, slots: number): Chain {
  const clock: SlotClock = Object.create(chain.clock, {
    slot: { get: () => Math.max(1, chain.clock.slot - slots) },
    root: { get: () => chain.clock.root - slots },
  });
  return Object.create(chain, {
    clock: { value: clock },
    sendTransaction: { value: (wire: Uint8Array) => chain.sendTransaction(wire) },
  });
}

/** Applies the history horizon and the getProgramAccounts cap to one item's answer. */
export function limitReply(front: Front, chain: Chain, item: unknown, reply: RpcReply): RpcReply {
  if (!("result" in reply) || reply.result === null) return reply;
  const method = methodOf(item);
  const { historySlots, gpaMaxAccounts } = front.profile;
  if (method === "getTransaction" && historySlots > 0) {
    const slot = (reply.result as { slot?: number }).slot ?? chain.clock.slot;
    if (chain.clock.slot - slot > historySlots) {
      front.meter.served.pruned++;
      return { ...reply, result: null };
    }
  }
  if (method === "getProgramAccounts" && gpaMaxAccounts > 0) {
    const result = reply.result as unknown[] | { value: unknown[] };
    const count = Array.isArray(result) ? result.length : result.value.length;
    if (count > gpaMaxAccounts) {
      const { result: _dropped, ...rest } = reply;
      return {
        ...rest,
        error: {
          code: -32600,
          message: `Too many accounts requested (${count} accounts; this endpoint answers at most ${gpaMaxAccounts}), use pagination`,
        },
      };
    }
  }
  return reply;
}
