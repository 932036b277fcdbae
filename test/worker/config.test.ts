import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { callWithEnv } from "./helpers.ts";

describe("configuration", () => {
  it("parses the design document's variables with their defaults", () => {
    const config = loadConfig({ ...env });
    expect(config.programId.toBase58()).toBe(env.VAULT_PROGRAM_ID);
    expect(config.balanceCheckIntervalSec).toBe(30);
    expect(config.reconciliationIntervalSec).toBe(300);
    expect(config.lowBalanceThreshold).toBe(100n);
    expect(config.rpcUrls).toEqual([env.SOLANA_RPC_URL]);
  });

  it("accepts several RPC endpoints separated by commas", () => {
    const config = loadConfig({ ...env, SOLANA_RPC_URL: "http://127.0.0.1:1, https://rpc.example" });
    expect(config.rpcUrls).toEqual(["http://127.0.0.1:1", "https://rpc.example"]);
  });

  it("names the variable when a program id is not base58 of 32 bytes", () => {
    expect(() => loadConfig({ ...env, VAULT_PROGRAM_ID: "not-a-key" })).toThrowError(
      "VAULT_PROGRAM_ID must be a base58-encoded 32-byte public key",
    );
    // 31 bytes of valid base58 is still not a public key.
    expect(() => loadConfig({ ...env, USDT_MINT: "1111111111111111111111111111111" })).toThrowError(/USDT_MINT/);
  });

  it("names every bad variable at once and never echoes a secret's value", () => {
    try {
      loadConfig({ ...env, DATABASE_URL: "mysql://user:hunter2@db", RECONCILIATION_INTERVAL: "soon" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.variables.sort()).toEqual(["DATABASE_URL", "RECONCILIATION_INTERVAL"]);
      expect(e.message).not.toContain("hunter2");
    }
  });

  it("answers requests with a CONFIG_INVALID envelope naming the variable instead of crashing", async () => {
    const { status, body } = await callWithEnv({ LOW_BALANCE_THRESHOLD: "-5" }, "/health");
    expect(status).toBe(500);
    expect(body.success).toBe(false);
    expect(body.error?.code).toBe("CONFIG_INVALID");
    expect(body.error?.message).toContain("LOW_BALANCE_THRESHOLD");
  });

  it("refuses API_KEYS entries it cannot read whole, naming the variable and never the key", () => {
    const good = "ops:admin:k3y-0123456789abcdefghijklmnop";
    const unreadable = [
      // A key containing ':' used to be cut at it silently (the key then was only its first part).
      "exchange:service:part-one-0123456789abcdef:part-two",
      "exchange:service:short",
      "exchange:owner:key-0123456789abcdefghijklmnop",
      "ex change:service:key-0123456789abcdefghijklmnop",
      "exchange:service:key with spaces 0123456789abc",
      `${good},ops:service:another-key-0123456789abcdef`,
      `${good},other:admin:k3y-0123456789abcdefghijklmnop`,
    ];
    for (const value of unreadable) {
      try {
        loadConfig({ ...env, API_KEYS: value });
        expect.unreachable(value);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).variables).toEqual(["API_KEYS"]);
        // Nothing of any entry's key part (everything after its scope) appears in the message.
        for (const entry of value.split(",")) {
          const secret = entry.trim().split(":").slice(2).join(":");
          for (const piece of secret.split(/[\s:]/).filter((p) => p.length >= 5)) {
            expect((err as ConfigError).message).not.toContain(piece);
          }
        }
      }
    }
    expect(loadConfig({ ...env, API_KEYS: ` ${good} , svc.1:service:s3rv1ce-key-0123456789abcdef ` }).apiKeys).toEqual([
      { name: "ops", scope: "admin", key: "k3y-0123456789abcdefghijklmnop" },
      { name: "svc.1", scope: "service", key: "s3rv1ce-key-0123456789abcdef" },
    ]);
  });
});
