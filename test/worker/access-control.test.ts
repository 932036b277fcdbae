import { env } from "cloudflare:workers";
import { Keypair } from "@solana/web3.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  chunkedBody,
  foreignSignedTransaction,
  forgedSignedTransaction,
  freshIp,
  jsonInit,
  send,
} from "./hardening-support.ts";
import { walletWithVault } from "./ingest-support.ts";

const owner = () => Keypair.generate().publicKey.toBase58();
const lowIpLimit = { RATE_LIMIT_IP_PER_MINUTE: "3", RATE_LIMIT_OWNER_PER_MINUTE: "1000" };
const lowOwnerLimit = { RATE_LIMIT_IP_PER_MINUTE: "1000", RATE_LIMIT_OWNER_PER_MINUTE: "2" };

describe("rate limits", () => {
  it("a client IP that exceeds its build budget gets 429 RATE_LIMITED with Retry-After, other IPs do not", async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await send(lowIpLimit, "/vault/deposit", jsonInit({}, { "cf-connecting-ip": ip }));
      statuses.push(res.status);
      if (i === 3) {
        expect(res.body?.error).toMatchObject({ code: "RATE_LIMITED", details: { scope: "ip" } });
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
    const other = await send(lowIpLimit, "/vault/deposit", jsonInit({}, { "cf-connecting-ip": freshIp() }));
    expect(other.status).toBe(400);
  });

  it("40 builds naming owner V from 40 clients (valid and malformed) leave V able to build: no per-owner budget on unsigned builds", async () => {
    const { wallet, owner: v } = await walletWithVault(2_000_000n);
    const strict = { RATE_LIMIT_IP_PER_MINUTE: "1000", RATE_LIMIT_OWNER_PER_MINUTE: "2" };
    for (let i = 0; i < 40; i++) {
      const malformed = await send(
        strict,
        "/vault/deposit",
        jsonInit({ userPubkey: v, amount: "1.5" }, { "cf-connecting-ip": freshIp() }),
      );
      expect(malformed.body?.error?.code).toBe("INVALID_AMOUNT");
    }
    const valid = await Promise.all(
      Array.from({ length: 40 }, () =>
        send(strict, "/vault/deposit", jsonInit({ userPubkey: v, amount: 1 }, { "cf-connecting-ip": freshIp() })),
      ),
    );
    expect(valid.map((r) => r.status)).toEqual(Array(40).fill(200));
    const own = await send(
      strict,
      "/vault/deposit",
      jsonInit({ userPubkey: wallet.publicKey.toBase58(), amount: 1 }, { "cf-connecting-ip": freshIp() }),
    );
    expect(own.status).toBe(200);
    expect(own.body?.data).toHaveProperty("unsignedTransaction");
  });

  it("unsigned builds share one global budget across clients, with 429 scope global", async () => {
    // The global bucket is keyed by its limit, so this test's limit of 3 is a bucket no other test takes from.
    const low = { RATE_LIMIT_IP_PER_MINUTE: "1000", RATE_LIMIT_GLOBAL_BUILDS_PER_MINUTE: "3" };
    const results: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await send(low, "/vault/initialize", jsonInit({}, { "cf-connecting-ip": freshIp() }));
      results.push(`${res.status} ${res.body?.error?.details?.scope ?? ""}`.trim());
    }
    expect(results).toEqual(["400", "400", "400", "429 global"]);
  });

  it("a client header is believed only when TRUSTED_CLIENT_IP_HEADER names it", async () => {
    const trusted = `x-test-client-${crypto.randomUUID().slice(0, 8)}`;
    const limits = { RATE_LIMIT_IP_PER_MINUTE: "3", TRUSTED_CLIENT_IP_HEADER: trusted };
    const client = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      // A fresh cf-connecting-ip each time does not help: only the configured header says who the client is.
      const res = await send(
        limits,
        "/vault/deposit",
        jsonInit({}, { [trusted]: client, "cf-connecting-ip": freshIp() }),
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
    const other = await send(limits, "/vault/deposit", jsonInit({}, { [trusted]: freshIp() }));
    expect(other.status).toBe(400);
  });

  it("a failing limiter falls back to a bucket in the isolate: the API stays up and the limit still holds", async () => {
    const broken = {
      get() {
        throw new Error("limiter down");
      },
      idFromName() {
        throw new Error("limiter down");
      },
    };
    const limits = { RATE_LIMIT_IP_PER_MINUTE: "2", RATE_LIMITER: broken } as unknown as Record<string, string>;
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await send(limits, "/vault/deposit", jsonInit({}, { "cf-connecting-ip": ip }))).status);
    }
    expect(statuses).toEqual([400, 400, 429]);
  });

  it("a valid API key has its own budget on the privileged builders instead of the per-IP and per-owner ones", async () => {
    const key = `probe-${crypto.randomUUID()}`;
    const limits = {
      API_KEYS: `${(env as unknown as Record<string, string>).API_KEYS},probe-${key.slice(6, 14)}:service:${key}`,
      RATE_LIMIT_IP_PER_MINUTE: "2",
      RATE_LIMIT_OWNER_PER_MINUTE: "2",
      RATE_LIMIT_KEY_PER_MINUTE: "4",
    };
    const ip = freshIp();
    const user = owner();
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await send(
        limits,
        "/vault/lock",
        jsonInit(
          { authorityPubkey: owner(), userPubkey: user, amount: "1.5" },
          { "cf-connecting-ip": ip, "x-api-key": key },
        ),
      );
      results.push(`${res.status} ${res.body?.error?.code} ${res.body?.error?.details?.scope ?? ""}`.trim());
    }
    // Four pass the limiter (and fail validation), the fifth is over the key's budget — past the IP's and owner's 2.
    expect(results).toEqual([...Array(4).fill("400 INVALID_AMOUNT"), "429 RATE_LIMITED api_key"]);

    // Guessing keys does not get that budget: unknown keys are limited per client IP.
    const guesses: string[] = [];
    const guesser = freshIp();
    for (let i = 0; i < 3; i++) {
      const res = await send(
        limits,
        "/vault/lock",
        jsonInit(
          { authorityPubkey: owner(), userPubkey: owner(), amount: 1 },
          { "cf-connecting-ip": guesser, "x-api-key": `${key}x` },
        ),
      );
      guesses.push(`${res.status} ${res.body?.error?.code}`);
    }
    expect(guesses).toEqual(["401 UNAUTHORIZED", "401 UNAUTHORIZED", "429 RATE_LIMITED"]);
  });

  it("the relay is limited per owner only once the signature proves the owner; forged ones cost the owner nothing", async () => {
    const payer = Keypair.generate();
    // Transactions naming the payer as fee payer but signed by someone else: they prove nothing.
    for (let i = 0; i < 4; i++) {
      const forged = await send(
        lowOwnerLimit,
        "/vault/submit",
        jsonInit({ signedTransaction: forgedSignedTransaction(payer.publicKey) }, { "cf-connecting-ip": freshIp() }),
      );
      expect(forged.status).toBe(400);
    }
    const results: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(
        lowOwnerLimit,
        "/vault/submit",
        jsonInit({ signedTransaction: foreignSignedTransaction(payer) }, { "cf-connecting-ip": freshIp() }),
      );
      results.push(`${res.status} ${res.body?.error?.code} ${res.body?.error?.details?.scope ?? ""}`.trim());
    }
    expect(results).toEqual(["400 PROGRAM_NOT_ALLOWED", "400 PROGRAM_NOT_ALLOWED", "429 RATE_LIMITED owner"]);
  });

  it("WebSocket upgrades are limited per client before the upgrade, not per owner", async () => {
    const ip = freshIp();
    const perClient = { RATE_LIMIT_IP_PER_MINUTE: "1", RATE_LIMIT_OWNER_PER_MINUTE: "1" };
    const open = (who: string, from: string) =>
      send(perClient, `/ws/${who}`, { headers: { upgrade: "websocket", "cf-connecting-ip": from } });
    const first = await open(owner(), ip);
    expect(first.status).toBe(101);
    first.webSocket?.accept();
    first.webSocket?.close(1000, "done");
    const second = await open(owner(), ip);
    expect(second.status).toBe(429);
    expect(second.body?.error).toMatchObject({ code: "RATE_LIMITED", details: { scope: "ip" } });
    expect(second.headers.get("retry-after")).toMatch(/^\d+$/);
    // Other clients connecting to one owner are not held back by an owner budget.
    const who = owner();
    for (let i = 0; i < 3; i++) {
      const res = await open(who, freshIp());
      expect(res.status).toBe(101);
      res.webSocket?.accept();
      res.webSocket?.close(1000, "done");
    }
  });

  it("a limit of 0 turns limiting off", async () => {
    const ip = freshIp();
    const off = { RATE_LIMIT_IP_PER_MINUTE: "0", RATE_LIMIT_OWNER_PER_MINUTE: "0" };
    for (let i = 0; i < 5; i++) {
      const res = await send(off, "/vault/initialize", jsonInit({}, { "cf-connecting-ip": ip }));
      expect(res.status).toBe(400);
    }
  });
});

describe("CORS", () => {
  it("by default no other origin may read the API, and preflights grant nothing", async () => {
    const get = await send({}, "/health", { headers: { origin: "https://evil.example" } });
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await send({}, "/vault/deposit", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("listed origins are allowed (and only those); * must be configured explicitly", async () => {
    const listed = { CORS_ORIGINS: "https://app.example, https://ops.example/" };
    const ok = await send(listed, "/health", { headers: { origin: "https://ops.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://ops.example");
    expect(ok.headers.get("access-control-expose-headers")).toContain("retry-after");
    const preflight = await send(listed, "/vault/lock", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("x-api-key");
    const other = await send(listed, "/health", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const any = await send({ CORS_ORIGINS: "*" }, "/health", { headers: { origin: "https://evil.example" } });
    expect(any.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("a malformed CORS_ORIGINS is a configuration error naming the variable", async () => {
    const res = await send({ CORS_ORIGINS: "not an origin" }, "/health");
    expect(res.body?.error?.code).toBe("CONFIG_INVALID");
    expect(res.body?.error?.message).toContain("CORS_ORIGINS");
  });
});

describe("security headers", () => {
  it("every response carries nosniff, no framing, no referrer and a deny-all CSP — errors too", async () => {
    for (const [path, status] of [
      ["/health", 200],
      ["/nowhere", 404],
      [`/vault/balance/not-a-key`, 400],
    ] as const) {
      const res = await send({}, path);
      expect(res.status).toBe(status);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    }
  });

  it("GET /docs gets a CSP that allows exactly its own inline script and style, and same-origin fetches", async () => {
    const res = await send({}, "/docs");
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    const script = /<script>([\s\S]*?)<\/script>/.exec(res.text)![1]!;
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("request body limits", () => {
  const big = "x".repeat(17 * 1024);
  it("a body over 16 KiB with a Content-Length is refused with 413 PAYLOAD_TOO_LARGE", async () => {
    const res = await send({}, "/vault/deposit", jsonInit({ userPubkey: big }));
    expect(res.status).toBe(413);
    expect(res.body?.error?.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("a chunked body without Content-Length is counted as it streams and refused past the cap", async () => {
    for (const path of ["/vault/deposit", "/vault/submit", "/admin/pause", "/nowhere"]) {
      const res = await send({}, path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chunkedBody(64 * 1024),
      });
      expect([path, res.status, res.body?.error?.code]).toEqual([path, 413, "PAYLOAD_TOO_LARGE"]);
    }
  });

  it("a small chunked body still reaches validation", async () => {
    const res = await send({}, "/vault/deposit", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunkedBody(40, '{"amount":1,"x":"'),
    });
    expect(res.body?.error?.code).toBe("INVALID_JSON");
  });

  it("the webhook has its own, larger cap, also for chunked bodies", async () => {
    const res = await send({}, "/webhooks/helius", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "helius-test-secret-0123456789abcdef" },
      body: chunkedBody(4 * 1024 * 1024 + 10),
    });
    expect(res.status).toBe(413);
    expect(res.body?.error?.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("benchmark routes", () => {
  it("exist only when BENCH_ROUTES=true", async () => {
    const off = await send({}, "/__bench/noop");
    expect([off.status, off.body?.error?.code]).toEqual([404, "NOT_FOUND"]);
    const offRun = await send({}, "/__bench/run/ingest", { method: "POST" });
    expect(offRun.status).toBe(404);
    const on = await send({ BENCH_ROUTES: "true" }, "/__bench/noop");
    expect([on.status, on.body?.success]).toEqual([200, true]);
  });
});

describe("secrets", () => {
  afterEach(() => vi.restoreAllMocks());

  it("no API key, webhook secret or database password appears in any response or log line", async () => {
    const lines: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    const dbPassword = "db-password-never-shown-42";
    const deadDb = { DATABASE_URL: `postgres://vault:${dbPassword}@127.0.0.1:1/vault`, LOG_LEVEL: "debug" };
    const bodies: string[] = [];
    const record = async (p: Promise<{ text: string }>) => bodies.push((await p).text);
    const key = "service-key-0123456789abcdef";
    await record(send(deadDb, "/health"));
    await record(send(deadDb, `/vault/balance/${owner()}`));
    await record(send(deadDb, `/vault/transactions/${owner()}`));
    await record(send(deadDb, "/monitor/alerts", { headers: { "x-api-key": "admin-key-0123456789abcdef" } }));
    await record(send(deadDb, "/monitor/alerts", { headers: { "x-api-key": `${key}x` } }));
    await record(
      send(
        deadDb,
        "/vault/lock",
        jsonInit({ authorityPubkey: owner(), userPubkey: owner(), amount: 1 }, { "x-api-key": key }),
      ),
    );
    await record(send(deadDb, "/webhooks/helius", jsonInit([], { authorization: "wrong-secret" })));
    await record(send({ API_KEYS: `broken:${key}`, LOG_LEVEL: "debug" }, "/health"));
    await record(send({ DATABASE_URL: `mysql://root:${dbPassword}@x/y`, LOG_LEVEL: "debug" }, "/health"));
    expect(lines.length).toBeGreaterThan(5);
    const secrets = [
      key,
      "admin-key-0123456789abcdef",
      "helius-test-secret-0123456789abcdef",
      dbPassword,
      env.DATABASE_URL ?? "no-database-url",
    ];
    for (const text of [...bodies, ...lines]) {
      for (const secret of secrets) expect(text, text.slice(0, 200)).not.toContain(secret);
    }
  });
});
