/** Socket side of the owner hub: connect (snapshot, replay or resync), broadcast, and the owner's current balances. */
import { eq } from "drizzle-orm";
import { vaults } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { toJson } from "../lib/json.ts";
import { backgroundServices } from "../platform/services.ts";
import { backing, backingPayload } from "../vault/backing.ts";
import { eventsAfter, gapSeq, latestSeq, oldestSeq, type StoredEvent } from "./event-log.ts";

/** What survives hibernation with each socket. */
export interface SocketAttachment {
  owner: string;
  /** False until the snapshot and replay are sent; live events skip the socket meanwhile (the replay covers them). */
  ready: boolean;
  connectedAt: string;
  /** Signed in by the owner's wallet (a verified nonce): not counted or refused by the anonymous caps. */
  authenticated?: boolean;
  /** The client's lease on its cap of anonymous sockets (given back when the socket goes). */
  lease?: { client: string; id: string };
}

/** Close code for a connection the hub refuses (bad owner); 4400 mirrors HTTP 400 in the private-use range. */
export const CLOSE_INVALID_OWNER = 4400;
/** Close code for a sign-in that does not verify (unknown, used or expired nonce; bad signature); mirrors 401. */
export const CLOSE_AUTH_FAILED = 4401;
/** Close code for an anonymous socket over the per-owner or per-client cap; mirrors 429. */
export const CLOSE_TOO_MANY_SOCKETS = 4429;

/**
 * The text an owner's wallet signs to open an authenticated socket (Sign-In With Solana's layout: domain, account,
 * statement, URI, version, nonce, times). The hub keeps the exact text by nonce and verifies the ed25519 signature
 * of its UTF-8 bytes against the owner's key.
 */
export function signInMessage(input: {
  domain: string;
  origin: string;
  owner: string;
  nonce: string;
  issuedAt: Date;
  expiresAt: Date;
}): string {
  return [
    `${input.domain} wants you to sign in with your Solana account:`,
    input.owner,
    "",
    "Open a live connection to this vault's events.",
    "",
    `URI: ${input.origin}/ws/${input.owner}`,
    "Version: 1",
    `Nonce: ${input.nonce}`,
    `Issued At: ${input.issuedAt.toISOString()}`,
    `Expiration Time: ${input.expiresAt.toISOString()}`,
  ].join("\n");
}

/** A message that is not a stored event (no seq of its own: it carries the latest seq). */
function control(event: string, data: Record<string, unknown>, seq: number): string {
  return toJson({ event, data, timestamp: new Date().toISOString(), seq, slot: null, commitment: null });
}

/**
 * Brings a freshly accepted socket up to date: the snapshot (current balances from the cache), then either the
 * events after `since` or, when they are no longer retained (or `since` is ahead of the log), a "resync" message,
 * then anything published while the snapshot was read. Marks the socket ready last.
 */
export async function bringUpToDate(
  env: Bindings,
  storage: DurableObjectStorage,
  ws: WebSocket,
  owner: string,
  since: number | null,
): Promise<void> {
  const atConnect = await latestSeq(storage);
  ws.send(control("snapshot", await snapshot(env, owner, atConnect), atConnect));
  let from = atConnect;
  if (since !== null) {
    const oldest = await oldestSeq(storage);
    const gap = await gapSeq(storage);
    const unrecorded = gap !== null && since <= gap;
    const lost =
      since > atConnect ||
      (oldest !== null && since < oldest - 1) ||
      (oldest === null && since < atConnect) ||
      unrecorded;
    if (lost) {
      ws.send(
        control(
          "resync",
          {
            reason:
              since > atConnect
                ? "since is ahead of this hub's log"
                : unrecorded
                  ? "events after since were not recorded (no subscription then)"
                  : "events after since are no longer retained",
            since,
            oldestSeq: oldest,
            latestSeq: atConnect,
            action: "discard local state and use the snapshot (or GET /vault/balance and history)",
          },
          atConnect,
        ),
      );
    } else {
      from = since;
    }
  }
  // No await between reading the tail and marking ready: a later publish sees the socket ready and sends the rest.
  const tail = await eventsAfter(storage, from);
  for (const e of tail) ws.send(toJson(e));
  const attachment = ws.deserializeAttachment() as SocketAttachment;
  ws.serializeAttachment({ ...attachment, ready: true } satisfies SocketAttachment);
}

/** The owner's balances as cached (null when the vault is unknown or the database cannot be read). */
async function snapshot(env: Bindings, owner: string, seq: number): Promise<Record<string, unknown>> {
  const services = backgroundServices(env, { durableObject: "VaultOwnerHub", owner });
  try {
    const [v] = await services.db().db.select().from(vaults).where(eq(vaults.owner, owner)).limit(1);
    // The same fields and encoding as balance_update (exact JSON integers).
    const balances = v
      ? {
          owner,
          totalBalance: v.totalBalance,
          lockedBalance: v.lockedBalance,
          availableBalance: v.availableBalance,
          vaultAddress: v.vaultAddress,
          totalDeposited: v.totalDeposited,
          totalWithdrawn: v.totalWithdrawn,
          ...backingPayload(backing(v, services.config.usdtMint.toBase58())),
          mint: v.mint,
          slot: v.slot,
        }
      : null;
    return { owner, balances, latestSeq: seq };
  } catch (err) {
    services.log.warn("snapshot unavailable", { error: err });
    return { owner, balances: null, latestSeq: seq, error: "balances unavailable; retry or GET /vault/balance" };
  } finally {
    await services.close();
  }
}

/** Sends stored events to every ready socket; a socket that fails to send is closed, never the publish. */
export function broadcast(sockets: WebSocket[], events: StoredEvent[]): void {
  if (events.length === 0) return;
  const lines = events.map((e) => toJson(e));
  for (const ws of sockets) {
    try {
      const attachment = ws.deserializeAttachment() as SocketAttachment | null;
      if (!attachment?.ready) continue;
      for (const line of lines) ws.send(line);
    } catch {
      try {
        ws.close(1011, "send failed");
      } catch {
        // Already closed.
      }
    }
  }
}
