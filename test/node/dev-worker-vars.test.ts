import { describe, expect, it } from "vitest";
import { mergeWorkerVars, workerVarsFromEnv } from "../../dev/worker-vars.ts";
import { CONFIG_VARIABLES } from "../../src/config.ts";

describe("npm run dev's Worker variables", () => {
  it("passes every configuration variable set in the environment, and nothing else", () => {
    const env = {
      LOG_LEVEL: "debug",
      RATE_LIMIT_IP_PER_MINUTE: "5",
      CORS_ORIGINS: "*",
      PATH: "/usr/bin",
      HOME: "/root",
    };
    expect(workerVarsFromEnv(env, { localChain: true })).toEqual({
      LOG_LEVEL: "debug",
      RATE_LIMIT_IP_PER_MINUTE: "5",
      CORS_ORIGINS: "*",
    });
  });

  it("reaches every variable the Worker reads except the ones pointing at what the stack started", () => {
    const env = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, `value-of-${name}`]));
    const passed = Object.keys(workerVarsFromEnv(env, { localChain: false }));
    expect(CONFIG_VARIABLES.filter((name) => !passed.includes(name)).sort()).toEqual(
      ["DATABASE_URL", "DEV_LOCALNET_URL", "NEON_WS_PROXY"].sort(),
    );
  });

  it("keeps the localnet's chain variables when the stack runs the localnet", () => {
    const env = { SOLANA_RPC_URL: "https://rpc.example", USDT_MINT: "mint", LOG_LEVEL: "warn" };
    expect(workerVarsFromEnv(env, { localChain: true })).toEqual({ LOG_LEVEL: "warn" });
    expect(workerVarsFromEnv(env, { localChain: false })).toEqual(env);
  });

  it("lets the environment win but keeps the stack's local API keys working beside the operator's", () => {
    const merged = mergeWorkerVars(
      { API_KEYS: "local-admin:admin:k1", LOG_LEVEL: "info", DATABASE_URL: "postgres://stack" },
      { API_KEYS: "ops:admin:k2", LOG_LEVEL: "debug" },
    );
    expect(merged).toEqual({
      API_KEYS: "ops:admin:k2,local-admin:admin:k1",
      LOG_LEVEL: "debug",
      DATABASE_URL: "postgres://stack",
    });
  });
});
