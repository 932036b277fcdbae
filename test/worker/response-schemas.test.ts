import { Keypair } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import { openApiOperation } from "../../src/api/openapi.ts";
import { documentedErrors, errorEnvelope, type Operation, type Success } from "../../src/api/operation.ts";
import { OPERATIONS } from "../../src/api/operations/index.ts";
import { fundedWallet } from "./chain.ts";
import { jsonInit, type Sent, send } from "./hardening-support.ts";
import { call } from "./helpers.ts";
import { confirmed, ingestPass, lockDirect, walletWithVault } from "./ingest-support.ts";

const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };
const ADMIN = { "x-api-key": "admin-key-0123456789abcdef" };
const ALL: Operation[] = [...OPERATIONS, openApiOperation as Operation];
const name = (op: Operation) => `${op.method} ${op.path}`;
const successes = (op: Operation): Success[] => (Array.isArray(op.success) ? op.success : [op.success]);

/**
 * Checks one real answer against its operation's documentation: a documented success status with its body (the
 * envelope's `data` schema, or the documented media type), or the error envelope with one of the operation's codes.
 */
function expectDocumented(op: Operation, res: Sent): void {
  const label = `${name(op)} → ${res.status} ${res.text.slice(0, 300)}`;
  const success = successes(op).find((s) => s.status === res.status);
  if (!success) {
    const parsed = errorEnvelope.safeParse(res.body);
    expect(parsed.success, label).toBe(true);
    expect(documentedErrors(op), label).toContain(res.body?.error?.code);
    return;
  }
  if ("data" in success) {
    expect(res.headers.get("content-type"), label).toContain("application/json");
    expect(res.body?.success, label).toBe(true);
    const parsed = success.data.safeParse(res.body?.data);
    expect(parsed.success, `${label}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    return;
  }
  if (success.contentType) {
    expect(res.headers.get("content-type"), label).toContain(success.contentType.split(";")[0]);
    if (success.schema && success.contentType.includes("json")) {
      const parsed = success.schema.safeParse(JSON.parse(res.text));
      expect(parsed.success, `${label}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  }
}

describe("documented responses", () => {
  it("every operation answers what its module documents", async () => {
    const { owner, vault } = await walletWithVault(5_000_000n);
    const fresh = (await fundedWallet()).publicKey.toBase58();
    const other = await walletWithVault(1_000_000n);
    const engineKey = await fundedWallet();
    // Something locked on chain, so an unlock can be built.
    await confirmed(await lockDirect(vault, engineKey, 2_000n));
    await ingestPass();
    const engine = engineKey.publicKey.toBase58();
    const admin = Keypair.fromSecretKey(Uint8Array.from(inject("localnetAdminSecret"))).publicKey.toBase58();
    // Builders for an authority not yet in the on-chain list: allowed here by the documented switch.
    const unlisted = { ALLOW_UNLISTED_AUTHORITIES: "true" };
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      send(unlisted, path, jsonInit(body, headers));
    const get = (path: string, headers: Record<string, string> = {}) => send({}, path, { headers });

    const deposit = await post("/vault/deposit", { userPubkey: owner, amount: 1_000 });
    const requestId = (deposit.body?.data as { transactionId: string } | undefined)?.transactionId ?? "missing";
    const unknownProgram = Keypair.generate().publicKey.toBase58();
    const answers: Record<string, () => Promise<Sent>> = {
      "get /": () => get("/"),
      "get /health": () => get("/health"),
      "get /docs": () => get("/docs"),
      "get /openapi.json": () => get("/openapi.json"),
      "get /events/schema.json": () => get("/events/schema.json"),
      "get /dashboard/config": () => get("/dashboard/config"),
      "post /vault/initialize": () => post("/vault/initialize", { userPubkey: fresh }),
      "post /vault/deposit": async () => deposit,
      "post /vault/withdraw": () => post("/vault/withdraw", { userPubkey: owner, amount: 1_000 }),
      "post /vault/lock": () =>
        post("/vault/lock", { authorityPubkey: engine, userPubkey: owner, amount: 1_000, positionId: "p-1" }, SERVICE),
      "post /vault/unlock": () =>
        post("/vault/unlock", { authorityPubkey: engine, userPubkey: owner, amount: 1_000 }, SERVICE),
      "post /vault/transfer": () =>
        post(
          "/vault/transfer",
          { authorityPubkey: engine, fromOwner: owner, toOwner: other.owner, amount: 1_000, reason: "settlement" },
          SERVICE,
        ),
      // Built, never signed: nothing changes on the shared chain.
      "post /admin/authority/initialize": () => post("/admin/authority/initialize", { adminPubkey: admin }, ADMIN),
      "post /admin/authority/programs/add": () =>
        post("/admin/authority/programs/add", { adminPubkey: admin, programId: unknownProgram }, ADMIN),
      "post /admin/authority/programs/remove": () =>
        post("/admin/authority/programs/remove", { adminPubkey: admin, programId: unknownProgram }, ADMIN),
      "post /admin/pause": () => post("/admin/pause", { adminPubkey: admin, paused: false }, ADMIN),
      "post /vault/submit": () => post("/vault/submit", { signedTransaction: "AQID" }),
      "get /transactions/{id}": () => get(`/transactions/${requestId}`),
      "get /vault/balance/{owner}": () => get(`/vault/balance/${owner}`),
      "get /vault/balance/{owner}/history": () => get(`/vault/balance/${owner}/history`),
      "get /vault/transactions/{owner}": () => get(`/vault/transactions/${owner}`),
      "get /vault/tvl": () => get("/vault/tvl"),
      "get /vault/tvl/history": () => get("/vault/tvl/history?bucket=hour"),
      "get /monitor/status": () => get("/monitor/status"),
      "get /monitor/alerts": () => get("/monitor/alerts?status=all", ADMIN),
      "get /monitor/audit": () => get("/monitor/audit", ADMIN),
      "post /monitor/alerts/{id}/ack": () =>
        send({}, "/monitor/alerts/9223372036854775807/ack", { method: "POST", headers: ADMIN }),
      "get /metrics": () => get("/metrics", ADMIN),
      "post /webhooks/helius": () => post("/webhooks/helius", [], { authorization: "wrong" }),
      "get /ws/{owner}/nonce": () => get(`/ws/${owner}/nonce`),
      "get /ws/{owner}": () => get(`/ws/${owner}`, { upgrade: "websocket" }),
    };
    // A new operation needs its answer here: the list is the operations' own.
    expect(Object.keys(answers).sort()).toEqual(ALL.map(name).sort());
    const succeeded: string[] = [];
    for (const op of ALL) {
      const res = await answers[name(op)]!();
      res.webSocket?.accept();
      res.webSocket?.close(1000, "done");
      expectDocumented(op, res);
      if (res.status < 400) succeeded.push(name(op));
    }
    // The answers above are meant to succeed, except where success would change the shared chain or needs a secret.
    const refusedOnPurpose = [
      "post /admin/authority/initialize",
      "post /admin/authority/programs/remove",
      "post /vault/submit",
      "post /monitor/alerts/{id}/ack",
      "post /webhooks/helius",
    ];
    expect(ALL.map(name).filter((n) => !succeeded.includes(n) && !refusedOnPurpose.includes(n))).toEqual([]);
  });

  it("every refusal of a malformed request is an error the operation documents", async () => {
    const refusals: string[] = [];
    for (const op of ALL) {
      const path = op.path.replace(/\{\w+\}/g, "x");
      const tries: Array<[string, RequestInit]> = [];
      if (op.scope) tries.push([path, { method: op.method.toUpperCase() }]);
      const headers = { ...ADMIN, "content-type": "application/json" };
      if (op.params) tries.push([path, { method: op.method.toUpperCase(), headers, body: op.body ? "{}" : undefined }]);
      if (op.query)
        tries.push([`${op.path.replace(/\{\w+\}/g, Keypair.generate().publicKey.toBase58())}?zz=1`, { headers }]);
      if (op.body) tries.push([path, { method: "POST", headers, body: "{" }]);
      for (const [url, init] of tries) {
        const res = await send({}, url, init);
        refusals.push(`${name(op)} ${res.status}`);
        expect(res.status, `${name(op)} ${url}: ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expectDocumented(op, res);
      }
    }
    // Every operation with an input or a key was refused at least once.
    const refused = new Set(refusals.map((r) => r.split(" ").slice(0, 2).join(" ")));
    expect(
      ALL.filter((op) => op.scope || op.params || op.query || op.body)
        .map(name)
        .filter((n) => !refused.has(n)),
    ).toEqual([]);
  });

  it("the OpenAPI document describes every operation's success and error bodies", async () => {
    type Schema = { properties?: { data?: { properties?: object } }; $ref?: string; anyOf?: Schema[] };
    type Media = Record<string, { schema?: Schema }>;
    const data = (schema?: Schema) =>
      schema?.properties?.data ?? schema?.anyOf?.find((s) => s.properties?.data)?.properties?.data;
    const doc = (await call("/openapi.json")).body as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Media }> }>>;
    };
    for (const op of ALL) {
      const responses = doc.paths[op.path]?.[op.method]?.responses ?? {};
      for (const s of successes(op)) {
        const media = responses[s.status]?.content;
        if ("data" in s) expect(data(media?.["application/json"]?.schema), name(op)).toBeTruthy();
        else if (s.contentType) expect(media?.[s.contentType]?.schema, name(op)).toBeTruthy();
        else expect(responses[s.status], name(op)).toBeTruthy();
      }
      const errors = Object.entries(responses).filter(([status]) => Number(status) >= 400);
      expect(errors.length, name(op)).toBeGreaterThan(0);
      for (const [, r] of errors) {
        const schema = r.content?.["application/json"]?.schema;
        expect(JSON.stringify(schema), name(op)).toContain("#/components/schemas/Error");
      }
    }
  });
});
