/**
 * Privileged requests: invisible in the public history until they land, and every privileged build and alert
 * acknowledgement recorded with the API key's name (GET /monitor/audit).
 */
import { Keypair } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import { raiseAlert } from "../../src/platform/alerts.ts";
import { fundedWallet, signBase64 } from "./chain.ts";
import { build, buildSignRelay, buildSignSend, waitForStatus } from "./flow.ts";
import { call, postJson } from "./helpers.ts";
import { withDb } from "./ingest-support.ts";

const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };
const ADMIN = { "x-api-key": "admin-key-0123456789abcdef" };

async function history(owner: string) {
  const { body } = await call(`/vault/transactions/${owner}?limit=100`);
  return body.data!.transactions as Array<{ transactionId: string; type: string; status: string }>;
}

async function audit(query: string, headers: Record<string, string> = ADMIN) {
  return call(`/monitor/audit?${query}`, { headers });
}

describe("privileged requests in the public history", () => {
  it("hides an unsigned lock from the owner's history until it lands, and records who built it", async () => {
    const user = await fundedWallet({ usdt: 9_000_000n });
    const userPubkey = user.publicKey.toBase58();
    await buildSignRelay("/vault/initialize", { userPubkey }, [user]);
    await buildSignRelay("/vault/deposit", { userPubkey, amount: 9_000_000 }, [user]);
    const engine = await fundedWallet();
    const lock = { authorityPubkey: engine.publicKey.toBase58(), userPubkey, amount: 2_000_000 };

    // Refused (the engine is not authorized yet): the refusal is in the audit trail with the key's name.
    const refused = await postJson("/vault/lock", lock, SERVICE);
    expect(refused.body.error?.code).toBe("AUTHORITY_NOT_AUTHORIZED");
    const admin = Keypair.fromSecretKey(Uint8Array.from(inject("localnetAdminSecret")));
    const add = { adminPubkey: admin.publicKey.toBase58(), programId: engine.publicKey.toBase58() };
    await buildSignSend("/admin/authority/programs/add", add, [admin], ADMIN);
    try {
      const built = await build("/vault/lock", lock, SERVICE);
      expect((await history(userPubkey)).map((t) => t.transactionId)).not.toContain(built.transactionId);
      const res = await postJson("/vault/submit", {
        signedTransaction: signBase64(built.unsignedTransaction, engine),
        transactionId: built.transactionId,
      });
      expect(res.status).toBe(202);
      await waitForStatus(built.transactionId, "confirmed", "finalized");
      const listed = (await history(userPubkey)).find((t) => t.transactionId === built.transactionId);
      expect(listed).toMatchObject({ type: "lock" });

      const { body } = await audit("apiKey=test-service&action=vault.lock&limit=200");
      const entries = body.data!.entries as Array<Record<string, unknown>>;
      // A build records the operation it made; a refusal, the fields it was asked with.
      const concerns = (e: Record<string, unknown>) => {
        const d = e.details as { owner?: string; request?: { userPubkey?: string } };
        return d.owner === userPubkey || d.request?.userPubkey === userPubkey;
      };
      const mine = entries.filter(concerns);
      expect(mine.map((e) => e.outcome).sort()).toEqual(["AUTHORITY_NOT_AUTHORIZED", "ok"]);
      expect(mine.find((e) => e.outcome === "ok")).toMatchObject({
        apiKey: "test-service",
        action: "vault.lock",
        transactionId: built.transactionId,
      });
      expect(JSON.stringify(body)).not.toContain("service-key-0123456789abcdef");
    } finally {
      // Leave the shared chain's authorized list as it was (it holds at most ten entries).
      await buildSignSend("/admin/authority/programs/remove", add, [admin], ADMIN);
    }
  });
});

describe("GET /monitor/audit", () => {
  it("lists alert acknowledgements by key name, pages, and answers only the admin scope", async () => {
    const owner = Keypair.generate().publicKey.toBase58();
    const id = await withDb((db) =>
      raiseAlert(db, {
        kind: "test_audit",
        severity: "info",
        owner,
        dedupKey: `test_audit:${owner}`,
        message: "an alert to acknowledge",
      }),
    );
    const ack = await postJson(`/monitor/alerts/${id}/ack`, {}, ADMIN);
    expect(ack.status).toBe(200);
    expect(ack.body.data).toMatchObject({ status: "acknowledged", acknowledgedBy: "test-admin" });

    const { body } = await audit("action=alert.ack&limit=200");
    expect(body.data).toMatchObject({ limit: 200, offset: 0 });
    const entry = (body.data!.entries as Array<Record<string, unknown>>).find((e) => e.alertId === Number(id));
    expect(entry).toMatchObject({ apiKey: "test-admin", action: "alert.ack", outcome: "ok" });

    const page = await audit("limit=1&offset=1");
    expect(page.status).toBe(200);
    expect(page.body.data!.entries).toHaveLength(1);
    expect(Number(page.body.data!.total)).toBeGreaterThanOrEqual(2);

    expect((await call("/monitor/audit")).status).toBe(401);
    expect((await audit("", SERVICE)).status).toBe(403);
    expect((await audit("limit=0")).body.error?.code).toBe("VALIDATION_FAILED");
  });
});
