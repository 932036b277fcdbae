/**
 * Watchdog for the program's known holes (vault-program.md §8), run on every committed ingestion batch. Each
 * alert is raised once for its cause (dedup key) and pushed as `alert` to the affected owners.
 */
import { vaults } from "../db/schema.ts";
import type { Bindings, Services } from "../env.ts";
import type { BatchResult } from "../ingest/store.ts";
import type { OwnerEvent } from "../realtime/publish.ts";
import { readAuthorizedSet } from "../vault/authorization.ts";
import { type AlertInput, raiseAlert, resolveAlerts } from "./alerts.ts";

type Candidate = AlertInput & { notify: string[] | "all" };

/**
 * Raises the batch's alerts and adds an `alert` event to `byOwner` for each new one (a duplicate cause is not
 * announced again). Pause/unpause concern every owner: they are fanned out to every cached vault owner.
 */
export async function watchBatch(
  _env: Bindings,
  services: Services,
  result: BatchResult,
  byOwner: Map<string, OwnerEvent[]>,
): Promise<number> {
  const candidates = [...(await eventAlerts(services, result)), ...(await tokenShortfalls(services, result))];
  if (candidates.length === 0) return 0;
  const { db } = services.db();
  let raised = 0;
  let everyone: string[] | null = null;
  for (const c of candidates) {
    const id = await raiseAlert(db, c);
    if (id === null) continue;
    raised++;
    if (c.notify === "all") everyone ??= (await db.select({ owner: vaults.owner }).from(vaults)).map((v) => v.owner);
    const owners = c.notify === "all" ? everyone! : c.notify;
    const data = { id: id.toString(), kind: c.kind, severity: c.severity, message: c.message, details: c.details };
    for (const owner of owners) {
      const list = byOwner.get(owner) ?? [];
      list.push({ event: "alert", data: { ...data, owner } });
      byOwner.set(owner, list);
    }
  }
  return raised;
}

/** Alerts read straight off the batch's events and instructions. */
async function eventAlerts(services: Services, result: BatchResult): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let authorized: Set<string> | null = null;
  const isAuthorized = async (key: string) => {
    authorized ??= await readAuthorizedSet(services.rpc, services.config.programId);
    return authorized.has(key);
  };
  for (const c of result.committed) {
    if (c.failure) continue;
    const sig = c.decoded.tx.signature;
    for (const { event, index } of c.decoded.events) {
      const owners = c.rows.filter((r) => r.eventIndex === index).map((r) => r.owner);
      const cause = `${sig}:${index}`;
      if (event.name === "LockCollateralEvent" || event.name === "UnlockCollateralEvent") {
        const by = (event.name === "LockCollateralEvent" ? event.data.lockedBy : event.data.unlockedBy).toBase58();
        if (!(await isAuthorized(by))) out.push(unauthorized(cause, by, event.name, owners, event.data.amount));
      } else if (event.name === "TransferCollateralEvent") {
        const by = event.data.transferredBy.toBase58();
        if (!(await isAuthorized(by))) out.push(unauthorized(cause, by, event.name, owners, event.data.amount));
        if (event.data.fromVault.equals(event.data.toVault)) {
          out.push({
            kind: "self_transfer",
            severity: "critical",
            owner: owners[0] ?? null,
            dedupKey: `self_transfer:${cause}`,
            message: `Self-transfer of ${event.data.amount} on vault ${event.data.fromVault.toBase58()} inflated its recorded balance (program bug §8.2)`,
            details: { signature: sig, eventIndex: index, vault: event.data.fromVault.toBase58(), authority: by },
            notify: [...new Set(owners)],
          });
        }
      } else if (event.name === "VaultPausedEvent") {
        const paused = event.data.isPaused;
        out.push({
          kind: paused ? "program_paused" : "program_unpaused",
          severity: paused ? "critical" : "warning",
          dedupKey: `pause:${cause}`,
          message: `The vault program was ${paused ? "paused" : "unpaused"} by ${event.data.admin.toBase58()}`,
          details: { signature: sig, admin: event.data.admin.toBase58(), isPaused: paused },
          notify: "all",
        });
      }
    }
    c.decoded.instructions.forEach((ix, ordinal) => {
      if (ix.name !== "addAuthorizedProgram" && ix.name !== "removeAuthorizedProgram") return;
      const added = ix.name === "addAuthorizedProgram";
      out.push({
        kind: "authorized_list_changed",
        severity: "warning",
        dedupKey: `authorized_list:${sig}:${ordinal}`,
        message: `${ix.args.programId.toBase58()} was ${added ? "added to" : "removed from"} the authorized list`,
        details: { signature: sig, program: ix.args.programId.toBase58(), change: added ? "added" : "removed" },
        notify: [],
      });
    });
  }
  return out;
}

function unauthorized(cause: string, by: string, event: string, owners: string[], amount: bigint): Candidate {
  return {
    kind: "unauthorized_authority",
    severity: "critical",
    owner: owners[0] ?? null,
    dedupKey: `unauthorized_authority:${cause}`,
    message: `${event} of ${amount} signed by ${by}, which is not in the authorized list (program bug §8.1)`,
    details: { signature: cause.split(":")[0], authority: by, event, amount: amount.toString() },
    notify: [...new Set(owners)],
  };
}

/**
 * Vaults the batch changed whose recorded total exceeds their token account's amount (bug §8.2 or a loss). The
 * condition keys the alert, so it fires once while it lasts and is resolved when the amounts agree again (for the
 * whole batch in one statement: one UPDATE per vault was the watchdog's main cost).
 */
async function tokenShortfalls(services: Services, result: BatchResult): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const cleared: string[] = [];
  for (const v of result.vaults) {
    // Recorded total and token amount come from one getMultipleAccounts (same slot): no false alarm from a race.
    if (v.tokenAmount === null) continue;
    const key = `balance_exceeds_tokens:${v.owner}`;
    if (v.totalBalance <= v.tokenAmount) {
      cleared.push(key);
      continue;
    }
    out.push({
      kind: "balance_exceeds_tokens",
      severity: "critical",
      owner: v.owner,
      dedupKey: key,
      message: `Vault of ${v.owner} records ${v.totalBalance} but its token account holds ${v.tokenAmount}`,
      details: { recorded: v.totalBalance.toString(), tokens: v.tokenAmount.toString(), slot: v.slot.toString() },
      notify: [v.owner],
    });
  }
  await resolveAlerts(services.db().db, cleared);
  return out;
}
