import { describe, expect, it, vi } from "vitest";
import { createLogger, describeError, maskPasswords, maskUrlPaths } from "../../src/lib/log.ts";

describe("error descriptions in logs and job runs", () => {
  it("keep a wrapped error's cause and its SQLSTATE, and nothing else of it", () => {
    const cause = Object.assign(new Error("permission denied for table vaults"), { code: "42501", client: { x: 1 } });
    const wrapped = Object.assign(new Error("Failed query: update vaults"), { cause });
    expect(describeError(wrapped)).toEqual({
      name: "Error",
      message: "Failed query: update vaults; cause: Error: permission denied for table vaults [42501]",
    });
    expect(describeError("text")).toEqual({ name: "Error", message: "text" });
    expect(describeError({ message: "shaped" })).toEqual({ name: "Error", message: "shaped" });
  });

  it("mask the password of any connection string, in the error and in its cause", () => {
    expect(maskPasswords("postgres://app:hunter2@ep-1.neon.tech/db?sslmode=require")).toBe(
      "postgres://app:***@ep-1.neon.tech/db?sslmode=require",
    );
    const err = Object.assign(new Error("cannot reach postgresql://u:p%40ss@h/d"), {
      cause: new Error("via wss://u:tok@proxy/x"),
    });
    const { message } = describeError(err);
    expect(message).not.toMatch(/p%40ss|tok@/);
    expect(message).toContain("postgresql://u:***@h/d");

    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    createLogger("info").error("failed", { error: err });
    spy.mockRestore();
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("p%40ss");
  });

  it("mask the path and query of web URLs, where RPC keys and webhook tokens travel", () => {
    expect(maskUrlPaths("fetch https://mainnet.helius-rpc.com/?api-key=abc failed")).toBe(
      "fetch https://mainnet.helius-rpc.com/… failed",
    );
    expect(maskUrlPaths("POST https://hooks.slack.com/services/T0/B0/XyZ: 500")).toBe(
      "POST https://hooks.slack.com/… 500",
    );
    expect(maskUrlPaths("wss://example.quiknode.pro/token123/")).toBe("wss://example.quiknode.pro/…");
    expect(maskUrlPaths("host https://rpc.example answered 429")).toBe("host https://rpc.example answered 429");
    const { message } = describeError(new Error("Fetch API cannot load: https://rpc.example/key-in-path"));
    expect(message).not.toContain("key-in-path");
  });
});
