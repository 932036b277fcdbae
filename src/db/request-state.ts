/**
 * The request state machine: the one place that says which status a request may move to. Pure (no I/O, no
 * imports), so the builders, the relay, ingestion, the finalizer, the owner hub's tracker and the lifecycle read-
 * through all apply the same rules — in TypeScript through `nextStatus`, in SQL through the lists below.
 *
 * A request's status is either a **fact** the chain reported about the request's own transaction (it landed:
 * `confirmed`, `finalized`, or `failed` with the program error) or a **guess** made before anything landed
 * (`submitted`: sent, `expired`: its blockhash passed without it landing). The chain overrules a guess: a request
 * whose transaction lands is `confirmed`/`finalized` (or `failed`) whatever was guessed before. A fact is only
 * ever refined (`confirmed` → `finalized`). A row records whether its transaction landed in `slot` (set exactly
 * when it landed), so "failed on chain" and an old "failed" guess without a slot stay distinguishable.
 *
 *   pending ──▶ submitted ──▶ confirmed ──▶ finalized
 *      │            │      ╲
 *      │            │       ╲──▶ failed (landed)
 *      └────────────┴──▶ expired ──(lands)──▶ confirmed / finalized / failed
 */

/** Every status a request row can hold (the `transactions.status` column). */
export const REQUEST_STATUSES = ["pending", "submitted", "confirmed", "finalized", "failed", "expired"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** What happened to a request. */
export type RequestEvent =
  /** The relay sent a signed transaction proven (by its bytes) to carry out the request. */
  | { kind: "sent" }
  /** The request's blockhash can no longer land (last valid block height passed, or the node forgot it). */
  | { kind: "expired" }
  /** The request's own transaction landed, at this commitment; `failed` when it landed with an error. */
  | { kind: "landed"; outcome: "confirmed" | "finalized" | "failed" };

/** A request as the state machine sees it: its status and whether its transaction landed (`slot` is set). */
export interface RequestState {
  status: RequestStatus;
  landed: boolean;
}

/** Statuses after which nothing is followed any more (a guess among them can still be overruled by a landing). */
export const SETTLED_STATUSES: readonly RequestStatus[] = ["finalized", "failed", "expired"];

/**
 * Statuses a landing may overrule: everything that is not a fact about a landed transaction. `failed` is in the
 * list for rows that failed without landing (no slot); SQL callers add `slot is null` for it (see `requests.ts`).
 */
export const OVERRULED_BY_LANDING: readonly RequestStatus[] = ["pending", "submitted", "expired", "failed"];

/** Statuses from which a request may be sent (again): not landed, and not already followed by the relay. */
export const SENDABLE_STATUSES: readonly RequestStatus[] = ["pending", "expired", "failed"];

/** True when nothing changes this status any more except the chain overruling a guess. */
export function isSettled(status: RequestStatus): boolean {
  return SETTLED_STATUSES.includes(status);
}

/**
 * The status after `event`, or null when the event does not move the request (a stale or impossible event: the
 * caller then leaves the row alone). Never moves a landed request backwards, and never lets a guess replace a fact.
 */
export function nextStatus(current: RequestState, event: RequestEvent): RequestStatus | null {
  const { status, landed } = current;
  switch (event.kind) {
    case "sent":
      return !landed && SENDABLE_STATUSES.includes(status) ? "submitted" : null;
    case "expired":
      return !landed && (status === "pending" || status === "submitted") ? "expired" : null;
    case "landed":
      return afterLanding(current, event.outcome);
  }
}

function afterLanding(current: RequestState, outcome: "confirmed" | "finalized" | "failed"): RequestStatus | null {
  const { status, landed } = current;
  if (!landed) return OVERRULED_BY_LANDING.includes(status) ? outcome : null;
  // Landed already: the only refinement is confirmed → finalized (a landed transaction cannot land again).
  if (status === "confirmed" && outcome === "finalized") return "finalized";
  return null;
}

/** Statuses from which a landing with `outcome` moves a request (the SQL form of `nextStatus`, for unlanded rows). */
export function statusesMovedByLanding(outcome: "confirmed" | "finalized" | "failed"): readonly RequestStatus[] {
  return REQUEST_STATUSES.filter((s) => nextStatus({ status: s, landed: false }, { kind: "landed", outcome }) !== null);
}
