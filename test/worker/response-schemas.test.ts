import { describe, expect, it } from "vitest";
import { RESPONSE_DATA } from "../../src/api/openapi.ts";
import { fundedWallet } from "./chain.ts";
import { jsonInit, send } from "./hardening-support.ts";
import { call } from "./helpers.ts";
import { confirmed, ingestPass, lockDirect, walletWithVault } from "./ingest-support.ts";

const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };

describe("documented response schemas", () => {
  it("every operation with a documented `data` answers what its schema says", async () => {
    const { owner, vault } = await walletWithVault(5_000_000n);
    const fresh = (await fundedWallet()).publicKey.toBase58();
    const other = await walletWithVault(1_000_000n);
    const engineKey = await fundedWallet();
    // Something locked on chain, so an unlock can be built.
    await confirmed(await lockDirect(vault, engineKey, 2_000n));
    await ingestPass();
    const engine = engineKey.publicKey.toBase58();
    // Builders for an authority not yet in the on-chain list: allowed here by the documented switch.
    const unlisted = { ALLOW_UNLISTED_AUTHORITIES: "true" };
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      send(unlisted, path, jsonInit(body, headers));
    const get = (path: string) => send({}, path, {});

    const deposit = await post("/vault/deposit", { userPubkey: owner, amount: 1_000 });
    const requestId = (deposit.body?.data as { transactionId: string } | undefined)?.transactionId ?? "missing";
    const answers: Record<string, Awaited<ReturnType<typeof send>>> = {
      "get /health": await get("/health"),
      "post /vault/initialize": await post("/vault/initialize", { userPubkey: fresh }),
      "post /vault/deposit": deposit,
      "post /vault/withdraw": await post("/vault/withdraw", { userPubkey: owner, amount: 1_000 }),
      "post /vault/lock": await post(
        "/vault/lock",
        { authorityPubkey: engine, userPubkey: owner, amount: 1_000, positionId: "p-1" },
        SERVICE,
      ),
      "post /vault/unlock": await post(
        "/vault/unlock",
        { authorityPubkey: engine, userPubkey: owner, amount: 1_000 },
        SERVICE,
      ),
      "post /vault/transfer": await post(
        "/vault/transfer",
        { authorityPubkey: engine, fromOwner: owner, toOwner: other.owner, amount: 1_000, reason: "settlement" },
        SERVICE,
      ),
      "get /vault/balance/{owner}": await get(`/vault/balance/${owner}`),
      "get /vault/transactions/{owner}": await get(`/vault/transactions/${owner}`),
      "get /vault/tvl": await get("/vault/tvl"),
      "get /transactions/{id}": await get(`/transactions/${requestId}`),
      "get /ws/{owner}/nonce": await get(`/ws/${owner}/nonce`),
    };
    expect(Object.keys(answers).sort()).toEqual(Object.keys(RESPONSE_DATA).sort());
    for (const [operation, res] of Object.entries(answers)) {
      const schema = RESPONSE_DATA[operation]!;
      expect(res.body?.success, `${operation}: ${res.text.slice(0, 300)}`).toBe(true);
      const parsed = schema.safeParse(res.body?.data);
      expect(parsed.success, `${operation}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it("the OpenAPI document carries those schemas under each operation's success response", async () => {
    const doc = (await call("/openapi.json")).body as unknown as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>
      >;
    };
    for (const operation of Object.keys(RESPONSE_DATA)) {
      const [method, path] = operation.split(" ") as [string, string];
      const responses = doc.paths[path]?.[method]?.responses ?? {};
      const success = Object.entries(responses).find(([status]) => status.startsWith("2"))?.[1];
      const schema = success?.content["application/json"]?.schema as {
        properties?: { data?: { properties?: object } };
      };
      expect(schema?.properties?.data?.properties, operation).toBeTruthy();
    }
  });
});
