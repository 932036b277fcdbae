import { describe, expect, inject, it } from "vitest";
import { SolanaRpc } from "../../src/chain/rpc.ts";

/** A path of its own on the test webhook receiver, which can answer 429 on request (never the shared localnet). */
async function rateLimitedEndpoint(failures: number): Promise<string> {
  const path = `/rpc-${crypto.randomUUID()}`;
  const base = inject("webhookReceiverUrl");
  const res = await fetch(`${base}/__plan${path}`, { method: "PUT", body: JSON.stringify({ failures, status: 429 }) });
  await res.body?.cancel();
  return `${base}${path}`;
}

describe("the RPC client's counts per method", () => {
  it("counts HTTP requests and JSON-RPC items per method: a batch is one request of many items", async () => {
    const rpc = new SolanaRpc({ rpcUrls: [inject("rpcUrl")] });
    await rpc.call("getSlot");
    await rpc.call("getSlot", [{ commitment: "finalized" }]);
    await rpc.batch([
      { method: "getBalance", params: ["11111111111111111111111111111111"] },
      { method: "getBalance", params: ["SysvarRent111111111111111111111111111111111"] },
      { method: "getSlot", params: [] },
    ]);
    expect(rpc.byMethod).toEqual({
      getSlot: { requests: 3, items: 3, rateLimited: 0 },
      getBalance: { requests: 1, items: 2, rateLimited: 0 },
    });
  });

  it("counts each 429 received, and the retry as another request", async () => {
    const rpc = new SolanaRpc({ rpcUrls: [await rateLimitedEndpoint(1)] });
    await rpc.call("getHealth");
    expect(rpc.byMethod).toEqual({ getHealth: { requests: 2, items: 2, rateLimited: 1 } });
  });
});
