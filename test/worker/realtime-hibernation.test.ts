import { evictDurableObject, listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Keypair } from "@solana/web3.js";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { socketSubscribers } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { ownerHub } from "../../src/platform/stubs.ts";
import { RETAINED_EVENTS } from "../../src/realtime/event-log.ts";
import { alertEvent } from "../../src/realtime/events.ts";
import { publishToOwner } from "../../src/realtime/publish.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet } from "./chain.ts";
import { confirmed, ingestPass, lockDirect, openSocket, walletWithVault, withDb } from "./ingest-support.ts";

const subscriberRow = (owner: string) =>
  withDb((db) => db.select().from(socketSubscribers).where(eq(socketSubscribers.owner, owner)));

const hub = (owner: string) => ownerHub(env as Bindings, owner);

/** The runtime's refusal when the hub is not running (evicting an object that is not in memory is refused). */
async function evictionRefusal(owner: string): Promise<string> {
  try {
    await evictDurableObject(hub(owner));
    return "evicted: the hub was running";
  } catch (err) {
    return String(err);
  }
}

describe("the owner's hub hibernates and keeps a bounded log", () => {
  it("a socket survives the hub's hibernation, pings are answered without waking it, and events still arrive", async () => {
    const { owner, vault } = await walletWithVault(1_000_000n);
    // Ingesting the vault's own transactions publishes to this hub: those calls must not keep it pinned.
    await ingestPass();
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));

    // Eviction waits for in-flight requests to the hub to drain; other files' ingestion may be publishing to it.
    await eventually(async () => {
      await evictDurableObject(hub(owner), { webSockets: "hibernate" });
      return true;
    }, 60_000);
    expect(await evictionRefusal(owner)).toMatch(/not currently running/);

    // The runtime answers "ping" from the hibernated socket without constructing the hub again.
    socket.ws.send("ping");
    await eventually(async () => (socket.raw.includes("pong") ? true : undefined));
    expect(await evictionRefusal(owner)).toMatch(/not currently running/);
    socket.messages.length = 0;

    const signer = await fundedWallet();
    const sig = await lockDirect(vault, signer, 5n);
    await confirmed(sig);
    await ingestPass();
    await socket.waitFor((m) => m.some((x) => x.event === "collateral_locked" && x.data.signature === sig));
    expect(socket.closed.code).toBeUndefined();
    socket.ws.close(1000, "done");
  });

  it(`keeps the last ${RETAINED_EVENTS} events: an older since gets resync, a recent one an exact replay`, async () => {
    const owner = Keypair.generate().publicKey.toBase58();
    // Subscribe first: events are recorded for owners that have connected once.
    const first = await openSocket(owner);
    await first.waitFor((m) => m.some((x) => x.event === "snapshot"));
    first.ws.close(1000, "done");
    const total = RETAINED_EVENTS + 150;
    const batch = Array.from({ length: total }, (_, i) =>
      alertEvent({
        id: String(i + 1),
        kind: "retention_probe",
        severity: "info",
        message: "probe",
        owner,
        details: { n: i + 1 },
      }),
    );
    await publishToOwner(env as Bindings, owner, batch.slice(0, 600));
    await publishToOwner(env as Bindings, owner, batch.slice(600));

    const stale = await openSocket(owner, "?since=10");
    await stale.waitFor((m) => m.some((x) => x.event === "resync"));
    expect(stale.of("resync")[0]!.data).toMatchObject({
      since: 10,
      oldestSeq: total - RETAINED_EVENTS + 1,
      latestSeq: total,
    });
    expect(stale.messages.filter((m) => m.event === "alert")).toHaveLength(0);

    const recent = await openSocket(owner, `?since=${total - 25}`);
    await recent.waitFor((m) => m.filter((x) => x.event === "alert").length >= 25);
    const replayed = recent.of("alert");
    expect(replayed.map((m) => m.seq)).toEqual(Array.from({ length: 25 }, (_, i) => total - 24 + i));
    expect(replayed.map((m) => (m.data.details as { n: number }).n)).toEqual(
      Array.from({ length: 25 }, (_, i) => total - 24 + i),
    );
    expect(recent.of("resync")).toHaveLength(0);

    // The oldest retained event is still replayable; the one before it is not.
    const edge = await openSocket(owner, `?since=${total - RETAINED_EVENTS}`);
    await edge.waitFor((m) => m.filter((x) => x.event === "alert").length >= RETAINED_EVENTS);
    expect(edge.of("alert")[0]!.seq).toBe(total - RETAINED_EVENTS + 1);
    const beyond = await openSocket(owner, `?since=${total - RETAINED_EVENTS - 1}`);
    await beyond.waitFor((m) => m.some((x) => x.event === "resync"));
    for (const s of [stale, recent, edge, beyond]) s.ws.close(1000, "done");
  });

  it("creates no hub for an owner who never connected; the first connection subscribes, and older seqs get resync", async () => {
    const { owner, vault } = await walletWithVault(1_000_000n);
    const signer = await fundedWallet();
    const before = await lockDirect(vault, signer, 7n);
    await confirmed(before);
    await ingestPass();
    const hubId = env.OWNER_HUB.idFromName(owner).toString();
    expect((await listDurableObjectIds(env.OWNER_HUB)).map((id) => id.toString())).not.toContain(hubId);
    expect(await subscriberRow(owner)).toHaveLength(0);

    const socket = await openSocket(owner, "?since=0");
    await socket.waitFor((m) => m.some((x) => x.event === "resync"));
    expect(socket.of("resync")[0]!.data.reason).toMatch(/not recorded/);
    // The snapshot already reflects the lock ingested before the first connection.
    expect(socket.of("snapshot")[0]!.data.balances).toMatchObject({ lockedBalance: 7 });
    expect(await subscriberRow(owner)).toHaveLength(1);

    const after = await lockDirect(vault, signer, 8n);
    await confirmed(after);
    await ingestPass();
    await socket.waitFor((m) => m.some((x) => x.event === "collateral_locked" && x.data.signature === after));
    expect(socket.of("collateral_locked").map((m) => m.data.signature)).toEqual([after]);
    socket.ws.close(1000, "done");
  });
});
