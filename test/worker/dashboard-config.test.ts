import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callWithEnv } from "./helpers.ts";

describe("GET /dashboard/config", () => {
  it("hides the dev wallet when DEV_LOCALNET_URL is not set, even though the RPC is local", async () => {
    const { status, body } = await call("/dashboard/config");
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      localnet: null,
      programId: env.VAULT_PROGRAM_ID,
      usdtMint: env.USDT_MINT,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(body.data?.cluster).not.toBe("localnet");
    // The RPC URL is a secret: its host (the test localnet's loopback address) never appears.
    expect(JSON.stringify(body.data)).not.toContain(new URL(env.SOLANA_RPC_URL).host);
  });

  it("names the cluster from SOLANA_CLUSTER when the deployment sets it", async () => {
    const { body } = await callWithEnv({ SOLANA_CLUSTER: "devnet" } as never, "/dashboard/config");
    expect(body.data?.cluster).toBe("devnet");
  });

  it("offers the localnet faucet when DEV_LOCALNET_URL is set", async () => {
    const { status, body } = await callWithEnv(
      { DEV_LOCALNET_URL: "http://127.0.0.1:8899/" } as never,
      "/dashboard/config",
    );
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      cluster: "localnet",
      localnet: { rpcUrl: "http://127.0.0.1:8899", faucetUrl: "http://127.0.0.1:8899/localnet/fund" },
    });
  });

  it("refuses a DEV_LOCALNET_URL that is not an http(s) URL, naming the variable", async () => {
    const { status, body } = await callWithEnv({ DEV_LOCALNET_URL: "localhost:8899" } as never, "/dashboard/config");
    expect(status).toBe(500);
    expect(body.error?.code).toBe("CONFIG_INVALID");
    expect(body.error?.message).toContain("DEV_LOCALNET_URL");
  });
});

describe("GET /", () => {
  it("sends people to the dashboard page", async () => {
    const entry = (exports as unknown as { default: Fetcher }).default;
    const res = await entry.fetch(new Request("http://vault.test/", { redirect: "manual" }));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/dashboard/");
  });
});
