import fc from "fast-check";
import { describe, it } from "vitest";
import {
  ADMIN_KEY,
  apiKeyHeader,
  bodyFor,
  boundaryAmounts,
  fuzz,
  hostilePost,
  pathSegment,
  rawText,
  SERVICE_KEY,
  validPubkey,
} from "./fuzz-support.ts";

const amount = fc.oneof(fc.constantFrom(...boundaryAmounts), fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String));
const priorityFee = fc.record(
  { computeUnitPrice: amount, percentile: fc.integer({ min: -5, max: 105 }) },
  { requiredKeys: [] },
);
const idempotency = fc.oneof(
  { arbitrary: fc.constant<Record<string, string>>({}), weight: 4 },
  fc
    .oneof(
      fc.uuid(),
      fc.string({ maxLength: 140 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    )
    .map((k) => ({ "idempotency-key": k })),
);
const withKey = (key: string) => idempotency.map((h) => ({ ...h, "x-api-key": key }));
const LONG = 120_000;

describe("hostile input on the build routes: never a 5xx, always a coded envelope", () => {
  for (const path of ["/vault/deposit", "/vault/withdraw"]) {
    it(
      `POST ${path}`,
      async () => {
        await fuzz(hostilePost(path, bodyFor({ userPubkey: validPubkey, amount, priorityFee }), idempotency));
      },
      LONG,
    );
  }

  it(
    "POST /vault/initialize",
    async () => {
      await fuzz(hostilePost("/vault/initialize", bodyFor({ userPubkey: validPubkey, priorityFee }), idempotency));
    },
    LONG,
  );
});

describe("hostile input on the privileged builders", () => {
  const lock = bodyFor({ authorityPubkey: validPubkey, userPubkey: validPubkey, amount, priorityFee });
  for (const path of ["/vault/lock", "/vault/unlock"]) {
    it(
      `POST ${path} (with and without a service key)`,
      async () => {
        await fuzz(hostilePost(path, lock, fc.oneof(withKey(SERVICE_KEY), apiKeyHeader)));
      },
      LONG,
    );
  }

  it(
    "POST /vault/transfer",
    async () => {
      const reason = fc.constantFrom("Liquidation", "Settlement", "Fee", "liquidation", "", "Other");
      const body = bodyFor({
        authorityPubkey: validPubkey,
        fromOwner: validPubkey,
        toOwner: validPubkey,
        amount,
        reason,
        priorityFee,
      });
      await fuzz(hostilePost("/vault/transfer", body, fc.oneof(withKey(SERVICE_KEY), apiKeyHeader)));
    },
    LONG,
  );

  for (const path of [
    "/admin/authority/initialize",
    "/admin/authority/programs/add",
    "/admin/authority/programs/remove",
  ]) {
    it(
      `POST ${path}`,
      async () => {
        const body = bodyFor({ adminPubkey: validPubkey, programId: validPubkey, priorityFee });
        await fuzz(hostilePost(path, body, fc.oneof(withKey(ADMIN_KEY), apiKeyHeader)));
      },
      LONG,
    );
  }

  it(
    "POST /admin/pause",
    async () => {
      const body = bodyFor({ adminPubkey: validPubkey, paused: fc.boolean(), priorityFee });
      await fuzz(hostilePost("/admin/pause", body, fc.oneof(withKey(ADMIN_KEY), apiKeyHeader)));
    },
    LONG,
  );
});

describe("hostile input on the relay, the webhook and alert acknowledgement", () => {
  it(
    "POST /vault/submit",
    async () => {
      const base64 = fc.uint8Array({ minLength: 0, maxLength: 1600 }).map((b) => btoa(String.fromCharCode(...b)));
      const signature = fc.oneof(
        fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => btoa(String.fromCharCode(...b))),
        fc.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/),
      );
      const body = bodyFor({ signedTransaction: base64, signature, transactionId: fc.uuid() });
      await fuzz(hostilePost("/vault/submit", body, idempotency));
    },
    LONG,
  );

  it(
    "POST /webhooks/helius (right and wrong secrets)",
    async () => {
      const auth = fc.oneof(
        fc.constant({ authorization: "helius-test-secret-0123456789abcdef" }),
        fc
          .string({ maxLength: 40 })
          .filter((s) => /^[\x20-\x7e]*$/.test(s))
          .map((s) => ({ authorization: s })),
        fc.constant({}),
      );
      const item = fc.record(
        { signature: fc.oneof(fc.string(), fc.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/)), type: fc.string() },
        { requiredKeys: [] },
      );
      const body = fc.oneof(
        fc.array(item, { maxLength: 5 }).map((a) => JSON.stringify(a)),
        rawText,
      );
      await fuzz(hostilePost("/webhooks/helius", body, auth));
    },
    LONG,
  );

  it(
    "POST /monitor/alerts/:id/ack",
    async () => {
      // Ids stay far above any alert another suite creates, so the fuzzer never acknowledges a real one.
      const id = fc.oneof(
        pathSegment,
        fc.bigInt({ min: 10n ** 15n, max: 10n ** 20n }).map(String),
        fc.constantFrom("0", "-1", "1.5", "9223372036854775807", "9223372036854775808", "99999999999999999999"),
      );
      await fuzz(
        hostilePost(
          id.map((s) => `/monitor/alerts/${s}/ack`),
          rawText,
          apiKeyHeader,
        ),
      );
    },
    LONG,
  );
});
