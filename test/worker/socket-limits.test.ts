import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ed25519 } from "@noble/curves/ed25519";
import { Keypair } from "@solana/web3.js";
import bs58 from "bs58";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { socketSubscribers } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { publishAll, subscribedOwners } from "../../src/ingest/notify.ts";
import { subscriptionPurgeJob } from "../../src/jobs/subscription-purge.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { ownerHub } from "../../src/platform/stubs.ts";
import { latestSeq } from "../../src/realtime/event-log.ts";
import { alertEvent, type OwnerEvent } from "../../src/realtime/events.ts";
import { CLOSE_AUTH_FAILED, CLOSE_TOO_MANY_SOCKETS } from "../../src/realtime/sockets.ts";
import { eventually } from "../eventually.ts";
import { freshIp, send } from "./hardening-support.ts";
import { openSocket, withDb } from "./ingest-support.ts";
import { runJobsNow } from "./jobs-support.ts";

interface Connected {
  ws: WebSocket;
  events: string[];
  closed: { code?: number; reason?: string };
}

/** Opens /ws/<path> through the Worker with some variables replaced, from client `ip`. */
async function connect(overrides: Record<string, string>, path: string, ip = freshIp()): Promise<Connected> {
  const res = await send(overrides, path, { headers: { upgrade: "websocket", "cf-connecting-ip": ip } });
  const ws = res.webSocket;
  if (!ws) throw new Error(`no websocket: HTTP ${res.status} ${res.text}`);
  const events: string[] = [];
  const closed: Connected["closed"] = {};
  ws.addEventListener("message", (e) => {
    try {
      events.push((JSON.parse(e.data as string) as { event: string }).event);
    } catch {
      events.push(String(e.data));
    }
  });
  ws.addEventListener("close", (e) => {
    closed.code = e.code;
    closed.reason = e.reason;
  });
  ws.accept();
  return { ws, events, closed };
}

const snapshotOrClose = (c: Connected) =>
  eventually(async () => (c.events.includes("snapshot") ? "open" : c.closed.code !== undefined ? "closed" : undefined));

const closedWith = (c: Connected) => eventually(async () => c.closed.code);

/** A sign-in nonce for `owner` and the owner wallet's base58 signature of its message. */
async function signIn(wallet: Keypair, signer = wallet) {
  const owner = wallet.publicKey.toBase58();
  const res = await send({}, `/ws/${owner}/nonce`, { headers: { "cf-connecting-ip": freshIp() } });
  expect(res.status).toBe(200);
  const data = res.body?.data as { nonce: string; message: string; expiresAt: string };
  expect(data.message).toContain(owner);
  expect(data.message).toContain(`Nonce: ${data.nonce}`);
  const signature = bs58.encode(ed25519.sign(new TextEncoder().encode(data.message), signer.secretKey.slice(0, 32)));
  return { nonce: data.nonce, signature, query: `?nonce=${data.nonce}&signature=${signature}` };
}

describe("socket caps and sign-in", () => {
  it("refuses anonymous sockets over the per-owner cap with 4429, while the owner's signed-in socket gets in", async () => {
    const wallet = Keypair.generate();
    const owner = wallet.publicKey.toBase58();
    const caps = { WS_MAX_ANONYMOUS_PER_OWNER: "2" };
    const first = await connect(caps, `/ws/${owner}`);
    const second = await connect(caps, `/ws/${owner}`);
    expect(await snapshotOrClose(first)).toBe("open");
    expect(await snapshotOrClose(second)).toBe("open");
    const third = await connect(caps, `/ws/${owner}`);
    expect(await closedWith(third)).toBe(CLOSE_TOO_MANY_SOCKETS);
    expect(third.closed.reason).toMatch(/sign in/);

    const { query } = await signIn(wallet);
    const signedIn = await connect(caps, `/ws/${owner}${query}`);
    expect(await snapshotOrClose(signedIn)).toBe("open");
    // A second signed-in socket is not refused either: the cap is on anonymous sockets only.
    const again = await connect(caps, `/ws/${owner}${(await signIn(wallet)).query}`);
    expect(await snapshotOrClose(again)).toBe("open");
    for (const c of [first, second, signedIn, again]) c.ws.close(1000, "done");
  });

  it("refuses a replayed nonce, a signature by another key and a nonce without signature with 4401", async () => {
    const wallet = Keypair.generate();
    const owner = wallet.publicKey.toBase58();
    const { query } = await signIn(wallet);
    const ok = await connect({}, `/ws/${owner}${query}`);
    expect(await snapshotOrClose(ok)).toBe("open");
    ok.ws.close(1000, "done");

    const replay = await connect({}, `/ws/${owner}${query}`);
    expect(await closedWith(replay)).toBe(CLOSE_AUTH_FAILED);
    expect(replay.closed.reason).toMatch(/nonce/);

    const stranger = await signIn(wallet, Keypair.generate());
    const forged = await connect({}, `/ws/${owner}${stranger.query}`);
    expect(await closedWith(forged)).toBe(CLOSE_AUTH_FAILED);
    expect(forged.closed.reason).toMatch(/does not verify/);
    // The forged attempt used its nonce up: the right signature for it is refused too.
    const { nonce } = stranger;
    const late = await connect(
      {},
      `/ws/${owner}?nonce=${nonce}&signature=${bs58.encode(ed25519.sign(new Uint8Array(1), wallet.secretKey.slice(0, 32)))}`,
    );
    expect(await closedWith(late)).toBe(CLOSE_AUTH_FAILED);

    const half = await connect({}, `/ws/${owner}?nonce=${(await signIn(wallet)).nonce}`);
    expect(await closedWith(half)).toBe(CLOSE_AUTH_FAILED);
  });

  it("refuses an expired nonce", async () => {
    const wallet = Keypair.generate();
    const owner = wallet.publicKey.toBase58();
    const res = await send({ WS_AUTH_NONCE_TTL: "1" }, `/ws/${owner}/nonce`, {});
    const data = res.body?.data as { nonce: string; message: string; expiresAt: string };
    const signature = bs58.encode(ed25519.sign(new TextEncoder().encode(data.message), wallet.secretKey.slice(0, 32)));
    await eventually(async () => (Date.now() > Date.parse(data.expiresAt) + 50 ? true : undefined));
    const late = await connect({}, `/ws/${owner}?nonce=${data.nonce}&signature=${signature}`);
    expect(await closedWith(late)).toBe(CLOSE_AUTH_FAILED);
    expect(late.closed.reason).toMatch(/expired/);
  });

  it("answers a malformed owner on the nonce route with 400 INVALID_PUBKEY", async () => {
    const res = await send({}, "/ws/not-a-key/nonce", {});
    expect(res.status).toBe(400);
    expect(res.body?.error?.code).toBe("INVALID_PUBKEY");
  });

  it("caps one client's anonymous sockets across owners, and gives the place back when a socket closes", async () => {
    const ip = freshIp();
    const caps = { WS_MAX_ANONYMOUS_PER_CLIENT: "2" };
    const owners = Array.from({ length: 3 }, () => Keypair.generate().publicKey.toBase58());
    const a = await connect(caps, `/ws/${owners[0]}`, ip);
    const b = await connect(caps, `/ws/${owners[1]}`, ip);
    expect(await snapshotOrClose(a)).toBe("open");
    expect(await snapshotOrClose(b)).toBe("open");
    const c = await connect(caps, `/ws/${owners[2]}`, ip);
    expect(await closedWith(c)).toBe(CLOSE_TOO_MANY_SOCKETS);
    expect(c.closed.reason).toMatch(/client/);
    // Another client is not affected.
    const other = await connect(caps, `/ws/${owners[2]}`);
    expect(await snapshotOrClose(other)).toBe("open");
    a.ws.close(1000, "done");
    const retried = await eventually(async () => {
      const d = await connect(caps, `/ws/${owners[2]}`, ip);
      if ((await snapshotOrClose(d)) === "open") return d;
      return undefined;
    }, 30_000);
    for (const s of [b, other, retried]) s.ws.close(1000, "done");
  });
});

describe("subscription expiry", () => {
  const event = (n: number): OwnerEvent =>
    alertEvent({
      id: String(n),
      kind: "probe",
      severity: "info",
      message: "probe",
      owner: "probe",
      details: { probe: n },
    });
  const hubSeq = (owner: string) =>
    runInDurableObject(ownerHub(env as Bindings, owner), (_i, state) => latestSeq(state.storage));
  const row = (owner: string) =>
    withDb(async (db) => (await db.select().from(socketSubscribers).where(eq(socketSubscribers.owner, owner)))[0]);

  it("stops publishing to an owner whose last socket went away SUBSCRIPTION_TTL ago, resumes on reconnect with resync, and purges the row", async () => {
    const services = backgroundServices(env as Bindings, { test: "subscription-expiry" });
    const owner = Keypair.generate().publicKey.toBase58();
    try {
      const socket = await openSocket(owner);
      await socket.waitFor((m) => m.some((e) => e.event === "snapshot"));
      expect((await row(owner))?.hasSockets).toBe(true);
      await publishAll(env as Bindings, services, new Map([[owner, [event(1)]]]));
      await socket.waitFor((m) => m.some((e) => e.event === "alert"));
      const seqWhileOpen = await hubSeq(owner);

      socket.ws.close(1000, "done");
      // The next publish finds the hub without sockets: the subscription starts to age (still published to).
      await eventually(async () => {
        await publishAll(env as Bindings, services, new Map([[owner, [event(2)]]]));
        return (await row(owner))?.hasSockets === false ? true : undefined;
      }, 30_000);
      expect(await subscribedOwners(services, [owner])).toEqual(new Set([owner]));

      // SUBSCRIPTION_TTL (a day by default) later: no longer a listener, and a publish does not reach the hub.
      await withDb((db) =>
        db
          .update(socketSubscribers)
          .set({ lastSocketAt: sql`now() - interval '2 days'` })
          .where(eq(socketSubscribers.owner, owner)),
      );
      expect(await subscribedOwners(services, [owner])).toEqual(new Set());
      const before = await hubSeq(owner);
      expect(before).toBeGreaterThan(seqWhileOpen);
      await publishAll(env as Bindings, services, new Map([[owner, [event(3)]]]));
      expect(await hubSeq(owner)).toBe(before);

      // Reconnecting subscribes again; a `since` from before the expiry cannot be replayed: resync.
      const back = await openSocket(owner, `?since=${seqWhileOpen}`);
      await back.waitFor((m) => m.some((e) => e.event === "resync"));
      expect((await row(owner))?.hasSockets).toBe(true);
      await publishAll(env as Bindings, services, new Map([[owner, [event(4)]]]));
      await back.waitFor((m) =>
        m.some((e) => e.event === "alert" && (e.data as { details?: { probe?: number } }).details?.probe === 4),
      );
      back.ws.close(1000, "done");

      // Expired rows are purged by the minute job; current listeners are kept.
      await eventually(async () => {
        await publishAll(env as Bindings, services, new Map([[owner, [event(5)]]]));
        return (await row(owner))?.hasSockets === false ? true : undefined;
      }, 30_000);
      const listening = Keypair.generate().publicKey.toBase58();
      const kept = await openSocket(listening);
      await kept.waitFor((m) => m.some((e) => e.event === "snapshot"));
      await withDb((db) =>
        db
          .update(socketSubscribers)
          .set({ lastSocketAt: sql`now() - interval '2 days'` })
          .where(sql`${socketSubscribers.owner} in (${owner}, ${listening})`),
      );
      await runJobsNow([subscriptionPurgeJob], "test");
      expect(await row(owner)).toBeUndefined();
      expect((await row(listening))?.hasSockets).toBe(true);
      kept.ws.close(1000, "done");
    } finally {
      await services.close();
    }
  });
});
