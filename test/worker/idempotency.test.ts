/**
 * Idempotency-Key as payment APIs do it: scoped to the route and whose request it is, one request in flight per
 * key, kept 24 hours then purged by the minute cron.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { idempotencyKeys, transactions } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import worker from "../../src/index.ts";
import { fundedWallet } from "./chain.ts";
import { postJson } from "./helpers.ts";
import { withDb } from "./ingest-support.ts";

const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };

async function requestsOf(owner: string) {
  return withDb((db) => db.select().from(transactions).where(eq(transactions.vaultOwner, owner)));
}

describe("Idempotency-Key", () => {
  it("is scoped to whose request it is: two owners using the same key each get their own request", async () => {
    const key = `shared-${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([fundedWallet(), fundedWallet()]);
    const first = await postJson(
      "/vault/initialize",
      { userPubkey: a.publicKey.toBase58() },
      { "idempotency-key": key },
    );
    const second = await postJson(
      "/vault/initialize",
      { userPubkey: b.publicKey.toBase58() },
      { "idempotency-key": key },
    );
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(second.body.data?.owner).toBe(b.publicKey.toBase58());
    // A privileged route scopes by API key name, not by owner: the same key there is yet another scope.
    const lock = { authorityPubkey: a.publicKey.toBase58(), userPubkey: a.publicKey.toBase58(), amount: 1 };
    const privileged = await postJson("/vault/lock", lock, { ...SERVICE, "idempotency-key": key });
    expect(privileged.body.error?.code).toBe("VAULT_NOT_FOUND");
  });

  it("refuses another body on a key in flight, and gives two identical requests at once one answer", async () => {
    const wallet = await fundedWallet();
    const owner = wallet.publicKey.toBase58();
    const key = `inflight-${crypto.randomUUID()}`;
    // A request with this key is running in another isolate (its row is taken and not completed).
    await withDb((db) =>
      db.insert(idempotencyKeys).values({ scope: `vault.initialize:${owner}`, key, requestHash: "0".repeat(64) }),
    );
    const busy = await postJson("/vault/initialize", { userPubkey: owner }, { "idempotency-key": key });
    // Another body while in flight is still a reuse of the key with another request.
    expect(busy.status).toBe(422);
    expect(busy.body.error?.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await requestsOf(owner)).toEqual([]);

    const fresh = `inflight-${crypto.randomUUID()}`;
    const body = { userPubkey: owner };
    // Two identical requests at once: one runs; the other waits for nothing, it is told to retry (409) or replayed.
    const [x, y] = await Promise.all([
      postJson("/vault/initialize", body, { "idempotency-key": fresh }),
      postJson("/vault/initialize", body, { "idempotency-key": fresh }),
    ]);
    const statuses = [x.status, y.status].sort();
    expect(statuses[0]).toBe(200);
    expect([200, 409]).toContain(statuses[1]);
    const conflict = [x, y].find((r) => r.status === 409);
    if (conflict) {
      expect(conflict.body.error?.code).toBe("IDEMPOTENCY_KEY_IN_PROGRESS");
      expect(conflict.headers.get("retry-after")).toBe("1");
    } else {
      expect([x, y].some((r) => r.headers.get("idempotent-replayed") === "true")).toBe(true);
    }
    expect(await requestsOf(owner)).toHaveLength(1);
    const replay = await postJson("/vault/initialize", body, { "idempotency-key": fresh });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.data?.transactionId).toBe((await requestsOf(owner))[0]!.id);
  });

  it("answers 409 for the same body while its request is in flight, and lets a request that died go after 2 minutes", async () => {
    const wallet = await fundedWallet();
    const owner = wallet.publicKey.toBase58();
    const text = JSON.stringify({ userPubkey: owner });
    const hash = await sha256Hex(`POST /vault/initialize\n${text}`);
    const key = `same-${crypto.randomUUID()}`;
    await withDb((db) =>
      db.insert(idempotencyKeys).values({ scope: `vault.initialize:${owner}`, key, requestHash: hash }),
    );
    const busy = await postJson("/vault/initialize", text, { "idempotency-key": key });
    expect(busy.status).toBe(409);
    expect(busy.body.error?.code).toBe("IDEMPOTENCY_KEY_IN_PROGRESS");
    // The request holding the key died three minutes ago: the key is taken over and the work done.
    await withDb((db) =>
      db
        .update(idempotencyKeys)
        .set({ createdAt: sql`now() - interval '3 minutes'` })
        .where(and(eq(idempotencyKeys.key, key))),
    );
    const retried = await postJson("/vault/initialize", text, { "idempotency-key": key });
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
  });

  it("forgets a key after 24 hours: it is a new request then, and the minute cron purges it", async () => {
    const wallet = await fundedWallet();
    const owner = wallet.publicKey.toBase58();
    const key = `old-${crypto.randomUUID()}`;
    const first = await postJson("/vault/initialize", { userPubkey: owner }, { "idempotency-key": key });
    expect(first.status).toBe(200);
    const age = (hours: number) =>
      withDb((db) =>
        db
          .update(idempotencyKeys)
          .set({ createdAt: sql`now() - make_interval(hours => ${hours})` })
          .where(eq(idempotencyKeys.key, key)),
      );
    await age(25);
    const later = await postJson("/vault/initialize", { userPubkey: owner }, { "idempotency-key": key });
    expect(later.status).toBe(200);
    expect(later.headers.get("idempotent-replayed")).toBeNull();

    await age(25);
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }),
      env as Bindings,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const left = await withDb((db) => db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key)));
    expect(left).toEqual([]);
  });
});

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
