import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  apiKeyHeader,
  assertEnvelope,
  fuzz,
  type HostileRequest,
  hit,
  pathSegment,
  queryFor,
  rawText,
  validPubkey,
} from "./fuzz-support.ts";

const LONG = 120_000;
const isoish = fc.oneof(
  fc
    .date({ min: new Date("1969-01-01"), max: new Date("2200-01-01"), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    "2026-11-24",
    "2026-02-30",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-11-24T00:00:00+14:00",
  ),
);
const bucket = fc.constantFrom("raw", "hour", "day", "minute", "week", "");
const headers = fc.record(
  {
    "x-request-id": fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    accept: fc.constantFrom("*/*", "text/html", "application/xml"),
    origin: fc.constantFrom("https://evil.example", "null"),
  },
  { requiredKeys: [] },
);
const get = (path: fc.Arbitrary<string>, extra: fc.Arbitrary<Record<string, string>> = fc.constant({})) =>
  fc
    .tuple(path, headers, extra)
    .map(([p, h, e]): HostileRequest => ({ method: "GET", path: p, headers: { ...h, ...e } }));

describe("hostile input on the read routes: never a 5xx, always a coded envelope", () => {
  it(
    "GET /vault/balance/:owner",
    async () => {
      await fuzz(get(pathSegment.map((s) => `/vault/balance/${s}`)));
    },
    LONG,
  );

  it(
    "GET /vault/transactions/:owner",
    async () => {
      const q = queryFor(["limit", "offset", "type"], fc.nat(2000).map(String));
      await fuzz(get(fc.tuple(pathSegment, q).map(([s, query]) => `/vault/transactions/${s}${query}`)));
    },
    LONG,
  );

  it(
    "GET /transactions/:id",
    async () => {
      // A well-formed id costs a database lookup; one case in ten is enough to cover that branch.
      const id = fc.oneof({ arbitrary: fc.uuid().map(String), weight: 1 }, { arbitrary: pathSegment, weight: 9 });
      await fuzz(get(id.map((s) => `/transactions/${s}`)));
    },
    LONG,
  );

  it(
    "GET /vault/tvl/history",
    async () => {
      const q = queryFor(["from", "to", "bucket"], fc.oneof(isoish, bucket));
      await fuzz(get(q.map((query) => `/vault/tvl/history${query}`)));
    },
    LONG,
  );

  it(
    "GET /vault/balance/:owner/history",
    async () => {
      const q = queryFor(["from", "to", "bucket"], fc.oneof(isoish, bucket));
      await fuzz(get(fc.tuple(pathSegment, q).map(([s, query]) => `/vault/balance/${s}/history${query}`)));
    },
    LONG,
  );

  it(
    "GET /monitor/alerts (with and without the admin key)",
    async () => {
      const q = queryFor(
        ["status", "kind", "owner", "limit", "offset"],
        fc.oneof(validPubkey, fc.constantFrom("open", "all", "resolved", "low_balance"), fc.nat(300).map(String)),
      );
      await fuzz(
        get(
          q.map((query) => `/monitor/alerts${query}`),
          apiKeyHeader,
        ),
      );
    },
    LONG,
  );
});

describe("hostile requests on the fixed routes", () => {
  // These do the same I/O whatever the input, so a few hundred cases each say all there is to say; the
  // cheap ones get the full thousand.
  const cases: Array<[string, number]> = [
    ["/health", 100],
    ["/monitor/status", 100],
    ["/vault/tvl", 100],
    ["/dashboard/config", 1000],
    ["/openapi.json", 1000],
    ["/docs", 1000],
  ];
  for (const [path, runs] of cases) {
    it(
      `GET ${path}`,
      async () => {
        const arb = get(queryFor(["x", "since", "owner"], rawText).map((q) => `${path}${q}`));
        await fc.assert(
          fc.asyncProperty(arb, async (req) => {
            const res = await hit(req);
            if (path === "/openapi.json" || path === "/docs") expect(res.status).toBe(200);
            else assertEnvelope(req, res);
          }),
          { numRuns: runs, endOnFailure: true },
        );
      },
      LONG,
    );
  }

  it(
    "any method on any path answers 404/405 (or the route's own answer) in the envelope",
    async () => {
      const known = fc.constantFrom(
        "/vault/deposit",
        "/vault/submit",
        "/vault/tvl",
        "/admin/pause",
        "/webhooks/helius",
        "/monitor/alerts/1/ack",
        "/dashboard/config",
        "/__bench/noop",
      );
      const path = fc.oneof(
        known,
        pathSegment.map((s) => `/${s}`),
        fc.tuple(known, pathSegment).map(([a, b]) => `${a}/${b}`),
      );
      const method = fc.constantFrom("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "GET", "POST", "PROPFIND");
      const arb = fc
        .tuple(method, path, rawText, fc.constantFrom("application/json", "text/plain"))
        .map(([m, p, body, type]): HostileRequest => ({ method: m, path: p, headers: { "content-type": type }, body }));
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          const res = await hit(req);
          // HEAD and preflight answers carry no body by definition.
          if (req.method === "HEAD" || req.method === "OPTIONS") expect(res.status).toBeLessThan(500);
          else assertEnvelope(req, res);
        }),
        { numRuns: 1000, endOnFailure: true },
      );
    },
    LONG,
  );
});
