/** Hostile-input generators and the one property every endpoint must keep: never a 5xx, always a coded envelope. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { PublicKey } from "@solana/web3.js";
import fc from "fast-check";
import { createApp } from "../../src/api/app.ts";
import type { Bindings } from "../../src/env.ts";
import { ERROR_STATUS } from "../../src/lib/errors.ts";

/** Cases per endpoint (the issue asks for at least 1,000). */
export const RUNS = 1000;

const app = createApp();
// One env object for every case: the config is parsed once per env object. Rate limits off (the fuzzer is one IP).
const fuzzEnv = { ...env, RATE_LIMIT_IP_PER_MINUTE: "0", RATE_LIMIT_OWNER_PER_MINUTE: "0" } as Bindings;

export const SERVICE_KEY = "service-key-0123456789abcdef";
export const ADMIN_KEY = "admin-key-0123456789abcdef";

export interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** Calls the app in-process (no network) and returns status and text, after its background work finished. */
export async function hit(req: HostileRequest): Promise<{ status: number; text: string; type: string }> {
  const ctx = createExecutionContext();
  const init: RequestInit = { method: req.method, headers: req.headers };
  if (req.body !== undefined && req.method !== "GET" && req.method !== "HEAD") init.body = req.body;
  const res = await app.fetch(new Request(`http://vault.test${req.path}`, init), fuzzEnv, ctx);
  const text = res.webSocket ? "" : await res.text();
  if (res.webSocket) {
    try {
      res.webSocket.accept();
      res.webSocket.close(1000, "fuzz");
    } catch {
      // The server end may have closed it already (e.g. 4400 for an invalid owner).
    }
  }
  await waitOnExecutionContext(ctx);
  return { status: res.status, text, type: res.headers.get("content-type") ?? "" };
}

/** The property: no 5xx; a JSON envelope whose error code is one of the API's and matches the status. */
export function assertEnvelope(req: HostileRequest, res: { status: number; text: string }): void {
  const where = `${req.method} ${req.path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 300)}`;
  if (res.status >= 500) throw new Error(`5xx: ${where}`);
  if (res.status === 101) return;
  // `..` segments resolve to "/", which sends browsers to the dashboard: the one non-envelope answer.
  if (res.status === 302 && new URL(`http://vault.test${req.path}`).pathname === "/") return;
  let body: { success?: unknown; data?: unknown; error?: { code?: string; message?: unknown } };
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new Error(`not JSON: ${where}`);
  }
  if (body.success === true) {
    if (res.status >= 400 || body.data === undefined) throw new Error(`bad success envelope: ${where}`);
    return;
  }
  const code = body.error?.code;
  if (body.success !== false || typeof code !== "string" || typeof body.error?.message !== "string") {
    throw new Error(`not an error envelope: ${where}`);
  }
  const status = (ERROR_STATUS as Record<string, number>)[code];
  if (status !== res.status) throw new Error(`code ${code} does not match status: ${where}`);
  if (code === "INTERNAL_ERROR" || code === "BAD_REQUEST") throw new Error(`unspecific code: ${where}`);
}

/** Runs `RUNS` (or `runs`) generated requests against the property. */
export async function fuzz(arb: fc.Arbitrary<HostileRequest>, runs = RUNS): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async (req) => assertEnvelope(req, await hit(req))),
    { numRuns: runs, endOnFailure: true },
  );
}

/** A real, random 32-byte public key. */
export const validPubkey = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => new PublicKey(b).toBase58());

/** Strings that look like keys but are not: wrong alphabet (0OIl), wrong length, unicode, padding, non-canonical. */
export const badPubkey = fc.oneof(
  validPubkey.map((k) => `${k.slice(0, 10)}0${k.slice(11)}`),
  validPubkey.map((k) => k.slice(0, 31)),
  validPubkey.map((k) => `${k}1`),
  validPubkey.map((k) => ` ${k}`),
  validPubkey.map((k) => `1${k}`),
  fc.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{1,60}$/),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.constantFrom("", "11111111111111111111111111111111111111111111", "OIl0", "🔑".repeat(32), "\u0000"),
);

/** Amounts at and around every boundary, as JSON numbers and strings. */
export const boundaryAmounts = [
  "0",
  "1",
  "-1",
  "-0",
  "9007199254740991",
  "9007199254740992",
  "18446744073709551615",
  "18446744073709551616",
  "99999999999999999999999999999999",
  "1e3",
  "1E+3",
  "0.5",
  ".5",
  "5.",
  "1_000",
  "０１",
  " 1",
  "1 ",
  "0x10",
  "Infinity",
];

/** Raw JSON number literals JSON.stringify cannot write: exponents, huge, negative zero, long fractions. */
export const rawNumber = fc.oneof(
  fc.constantFrom(
    "1e400",
    "-1e400",
    "-0",
    "0.0",
    "1e-400",
    "18446744073709551616",
    "1.0",
    "1E2",
    "123456789012345678901234567890",
  ),
  fc.tuple(fc.integer({ min: -99, max: 99 }), fc.integer({ min: -400, max: 400 })).map(([m, e]) => `${m}e${e}`),
  fc.tuple(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), fc.nat(9999)).map(([i, f]) => `${i}.${f}`),
  fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }).map(String),
);

/** Any JSON value, some deeply nested, plus hostile scalars. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 3 },
  { arbitrary: fc.constantFrom(...boundaryAmounts), weight: 2 },
  { arbitrary: validPubkey, weight: 2 },
  { arbitrary: badPubkey, weight: 2 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 1 },
);

/** A body for a schema with these fields: each present or not, hostile or sensible, plus stray fields. */
export function bodyFor(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const hostileFields = Object.fromEntries(
    Object.entries(fields).map(([k, good]) => [k, fc.oneof({ arbitrary: good, weight: 2 }, hostileValue)]),
  );
  const asObject = fc
    .tuple(
      fc.record(hostileFields, { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 12 }), hostileValue, { maxKeys: 2 }),
      fc.nat(9),
    )
    .map(([known, extra, roll]) => JSON.stringify(roll === 0 ? { ...extra, ...known } : known));
  const withRawAmount = fc
    .tuple(fc.record(fields, { requiredKeys: [] }), rawNumber)
    .map(([known, n]) => JSON.stringify({ ...known, amount: 0 }).replace('"amount":0', `"amount":${n}`));
  return fc.oneof(
    { arbitrary: asObject, weight: 6 },
    { arbitrary: withRawAmount, weight: 2 },
    { arbitrary: rawText, weight: 2 },
  );
}

/** Bodies that are not what a route wants: not JSON, deep, huge, top-level scalars, truncated, invalid UTF-8. */
export const rawText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "null"),
  fc.integer({ min: 1, max: 8000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.integer({ min: 1, max: 3000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.integer({ min: 15 * 1024, max: 40 * 1024 }).map((n) => JSON.stringify({ userPubkey: "x".repeat(n) })),
  fc.constantFrom(
    "",
    "{",
    "}",
    "null",
    "[]",
    "{}",
    '{"__proto__":{"x":1}}',
    '{"constructor":{}}',
    "\uFEFF{}",
    "\u0000",
  ),
);

/** Content types, mostly JSON (so bodies reach validation), some wrong. */
export const contentType = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "text/plain",
      "",
      "application/jsonx",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "application/json;charset=latin1",
    ),
    weight: 3,
  },
  { arbitrary: fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)), weight: 1 },
);

/** A POST of a hostile body, sometimes as invalid UTF-8 bytes, with optional extra headers. */
export function hostilePost(
  path: fc.Arbitrary<string> | string,
  body: fc.Arbitrary<string>,
  headers: fc.Arbitrary<Record<string, string>> = fc.constant({}),
): fc.Arbitrary<HostileRequest> {
  const paths = typeof path === "string" ? fc.constant(path) : path;
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Uint8Array.from([0xff, 0xfe, ...b]));
  return fc
    .tuple(paths, fc.oneof({ arbitrary: body, weight: 9 }, bytes), contentType, headers)
    .map(([p, b, type, extra]) => ({ method: "POST", path: p, headers: { "content-type": type, ...extra }, body: b }));
}

/** A path segment: real keys, bad keys, encoded junk, traversal. */
export const pathSegment = fc.oneof(
  validPubkey,
  badPubkey.map(encodeURIComponent),
  fc.string({ unit: "grapheme", maxLength: 60 }).map(encodeURIComponent),
  fc.constantFrom("..", "%2e%2e", "%00", "%ZZ", "a%2Fb", "-1", "0", "1e9", "9".repeat(40)),
);

/** A query string of known and unknown parameters with hostile values. */
export function queryFor(names: string[], good: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const value = fc.oneof(good, fc.string({ unit: "grapheme", maxLength: 30 }), fc.constantFrom(...boundaryAmounts));
  const name = fc.oneof({ arbitrary: fc.constantFrom(...names), weight: 5 }, fc.string({ maxLength: 8 }));
  return fc
    .array(fc.tuple(name, value), { maxLength: 4 })
    .map((pairs) =>
      pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}` : "",
    );
}

/** Auth header choices: none, wrong, service, admin. */
export const apiKeyHeader = fc.constantFrom<Record<string, string>>(
  {},
  { "x-api-key": "wrong-key-0123456789abcdef" },
  { "x-api-key": SERVICE_KEY },
  { "x-api-key": ADMIN_KEY },
  { "x-api-key": "" },
);
