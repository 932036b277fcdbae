import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env.ts";
import { send } from "./hardening-support.ts";

const OWNER = "11111111111111111111111111111111";
const dead = { BENCH_ROUTES: "true", DATABASE_URL: "postgres://postgres:x@127.0.0.1:1/none" };

describe("the database unavailable", () => {
  it("answers 503 SERVICE_UNAVAILABLE with Retry-After on the pool, the HTTP reads and the socket upgrade — not 500", async () => {
    const socket = { upgrade: "websocket" };
    for (const [path, init] of [
      ["/__bench/db", {}],
      ["/__bench/db-http", {}],
      [`/vault/transactions/${OWNER}`, {}],
      [`/ws/${OWNER}`, { headers: socket }],
    ] as const) {
      const res = await send(dead, path, init);
      expect([path, res.status, res.body?.error?.code]).toEqual([path, 503, "SERVICE_UNAVAILABLE"]);
      if (!path.startsWith("/ws/")) expect(res.headers.get("retry-after"), path).toBe("1");
      expect(res.text).not.toContain("127.0.0.1:1");
    }
  });

  it("keeps an error that retrying would not fix (an unknown login) as 500 INTERNAL_ERROR, not a transient 503", async () => {
    const url = new URL((env as Bindings).DATABASE_URL!);
    url.username = "no_such_login";
    const res = await send({ DATABASE_URL: url.toString() }, `/vault/transactions/${OWNER}`);
    expect([res.status, res.body?.error?.code]).toEqual([500, "INTERNAL_ERROR"]);
    expect(res.headers.get("retry-after")).toBeNull();
  });
});
