/**
 * Publishing to many listeners: above a few dozen owners a batch costs the publishing invocation one call to a
 * PublishFanout object, which reaches every hub; the sockets hear it and the hubs' answers still correct who listens.
 */
import { env } from "cloudflare:workers";
import { Keypair } from "@solana/web3.js";
import { inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { socketSubscribers } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { publishAll } from "../../src/ingest/notify.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { type OwnerEvent, transactionExpired } from "../../src/realtime/events.ts";
import { deliverToHubs, LEAF_OWNERS, publishFanout } from "../../src/realtime/publish-fanout.ts";
import { openSocket, withDb } from "./ingest-support.ts";

const owner = () => Keypair.generate().publicKey.toBase58();
const expired = (who: string, id: string): OwnerEvent =>
  transactionExpired({ id, transactionType: "deposit", vaultOwner: who });

describe("publish fan-out", () => {
  it("delivers a batch for 60 listening owners through one fan-out call, to the sockets that listen", async () => {
    const owners = Array.from({ length: 60 }, owner);
    const listener = await openSocket(owners[0]!);
    // Every owner counts as listening; only the first has a socket open.
    await withDb((db) =>
      db
        .insert(socketSubscribers)
        .values(owners.map((o) => ({ owner: o, hasSockets: true })))
        .onConflictDoUpdate({ target: socketSubscribers.owner, set: { hasSockets: true } }),
    );
    const byOwner = new Map(
      owners.map((o, i) => [o, [expired(o, `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`)]]),
    );
    const services = backgroundServices(env as Bindings, { test: "fanout" });
    try {
      expect(await publishAll(env as Bindings, services, byOwner)).toBe(0);
    } finally {
      await services.close();
    }
    const heard = await listener.waitFor((m) => m.some((e) => e.event === "transaction_expired"));
    expect(heard.find((e) => e.event === "transaction_expired")).toMatchObject({
      data: { transactionId: "00000000-0000-4000-8000-000000000000", owner: owners[0] },
    });
    // Each hub answered with its socket count through the fan-out: the 59 without a socket are no longer believed
    // to have one (they start to age towards SUBSCRIPTION_TTL); the listening one still is.
    const rows = await withDb((db) =>
      db.select().from(socketSubscribers).where(inArray(socketSubscribers.owner, owners)),
    );
    const open = rows.filter((r) => r.hasSockets).map((r) => r.owner);
    expect(open).toEqual([owners[0]]);
    await withDb((db) => db.delete(socketSubscribers).where(inArray(socketSubscribers.owner, owners)));
    listener.ws.close();
  });

  it("splits a set larger than one request's share across shards and answers for every owner", async () => {
    const owners = Array.from({ length: LEAF_OWNERS + 30 }, owner);
    const entries = owners.map((o, i): [string, OwnerEvent[]] => [
      o,
      [expired(o, `00000000-0000-4000-9000-${String(i).padStart(12, "0")}`)],
    ]);
    const deliveries = await publishFanout(env as Bindings, 3).deliver(entries);
    expect(deliveries).toHaveLength(owners.length);
    expect(new Set(deliveries.map((d) => d.owner))).toEqual(new Set(owners));
    expect(deliveries.every((d) => d.ok && d.sockets === 0)).toBe(true);
    // Directly, a hub answers the same way.
    const [direct] = await deliverToHubs(env as Bindings, [entries[0]!]);
    expect(direct).toMatchObject({ owner: owners[0], ok: true, sockets: 0 });
  });
});
