import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Keypair } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import type { Bindings } from "../../src/env.ts";
import { raiseAlert } from "../../src/platform/alerts.ts";
import { metricsStub } from "../../src/platform/metrics/collector.ts";
import { eventually } from "../eventually.ts";
import { callWithEnv, postJson } from "./helpers.ts";
import { openSocket, walletWithVault, withDb } from "./ingest-support.ts";
import { fireCron, runJobsNow } from "./jobs-support.ts";

const ADMIN = { "x-api-key": "admin-key-0123456789abcdef" };
const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };

async function get(path: string, headers: Record<string, string> = {}) {
  const entry = (exports as unknown as { default: Fetcher }).default;
  const res = await entry.fetch(new Request(`http://vault.test${path}`, { headers }));
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

/**
 * A scrape in which every source answered. Under load one source (the Metrics object, the database, the RPC) can
 * miss the scrape's check timeout; the route then leaves its figures out, which is its documented behaviour and not
 * what these tests are about, so they read the next scrape instead.
 */
const scrape = () =>
  eventually(async () => {
    const text = (await get("/metrics", ADMIN)).text;
    const up = ["store", "database", "rpc"].every(
      (source) => sample(text, "vault_metrics_source_up", { source }) === 1,
    );
    return up ? text : undefined;
  }, 30_000);

/** The value of one sample (`name{labels}` exactly as rendered, labels sorted), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const key = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(",");
  const prefix = key ? `${name}{${key}} ` : `${name} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

/** Waits until the sample has grown by at least `by` over `before` (counters are sent after the response). */
const grows = (name: string, labels: Record<string, string>, before: number | undefined, by = 1) =>
  eventually(async () => {
    const now = sample(await scrape(), name, labels) ?? 0;
    return now >= (before ?? 0) + by ? now : undefined;
  }, 30_000);

describe("GET /metrics", () => {
  it("answers an admin key only, in Prometheus text with HELP and TYPE for every family", async () => {
    expect((await get("/metrics")).status).toBe(401);
    expect((await get("/metrics", SERVICE)).status).toBe(403);
    const res = await get("/metrics", ADMIN);
    expect(res.status).toBe(200);
    expect(res.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = [...res.text.matchAll(/^# TYPE (\w+) (counter|gauge)$/gm)].map((m) => m[1]!);
    expect(families).toEqual(expect.arrayContaining(["vault_build_info", "vault_metrics_source_up"]));
    for (const line of res.text.split("\n").filter((l) => l && !l.startsWith("#"))) {
      expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$/);
      expect(families).toContain(line.split(/[{ ]/)[0]);
    }
  });

  it("is documented in OpenAPI as text/plain for the admin scope", async () => {
    const doc = JSON.parse((await get("/openapi.json")).text) as {
      paths: Record<string, { get: { responses: Record<string, { content: Record<string, unknown> }> } }>;
    };
    const op = doc.paths["/metrics"]!.get as unknown as Record<string, unknown> & {
      responses: Record<string, { content: Record<string, unknown> }>;
    };
    expect(Object.keys(op.responses["200"]!.content)).toEqual(["text/plain"]);
    expect(op["x-required-scope"]).toBe("admin");
  });

  it("counts builds by operation and outcome, and relays by outcome", async () => {
    const before = await scrape();
    const { owner } = await walletWithVault(2_000_000n);
    expect((await postJson("/vault/deposit", { userPubkey: owner, amount: 1_000 })).status).toBe(200);
    const stranger = Keypair.generate().publicKey.toBase58();
    expect((await postJson("/vault/deposit", { userPubkey: stranger, amount: 1 })).status).toBe(404);
    expect((await postJson("/vault/withdraw", { userPubkey: "nope", amount: 1 })).status).toBe(400);
    expect((await postJson("/vault/submit", { signedTransaction: "AAAA" })).status).toBe(400);

    const deposit = (outcome: string) => ({ operation: "deposit", outcome });
    await grows("vault_builds_total", deposit("ok"), sample(before, "vault_builds_total", deposit("ok")));
    await grows(
      "vault_builds_total",
      deposit("VAULT_NOT_FOUND"),
      sample(before, "vault_builds_total", deposit("VAULT_NOT_FOUND")),
    );
    const invalid = { operation: "withdraw", outcome: "INVALID_PUBKEY" };
    await grows("vault_builds_total", invalid, sample(before, "vault_builds_total", invalid));
    const relay = { outcome: "INVALID_TRANSACTION" };
    await grows("vault_relays_total", relay, sample(before, "vault_relays_total", relay));
  });

  it("counts every invocation's RPC requests, items and 429s by method", async () => {
    const before = await scrape();
    expect((await get("/health")).status).toBe(200);
    const health = { method: "getHealth" };
    await grows("vault_rpc_requests_total", health, sample(before, "vault_rpc_requests_total", health));
    await grows("vault_rpc_items_total", health, sample(before, "vault_rpc_items_total", health));

    // An endpoint that answers 429 once (the test receiver), so no other file's RPC is disturbed.
    const path = `/rpc-429-${crypto.randomUUID()}`;
    const receiver = inject("webhookReceiverUrl");
    await (
      await fetch(`${receiver}/__plan${path}`, { method: "PUT", body: JSON.stringify({ failures: 1, status: 429 }) })
    ).body?.cancel();
    await callWithEnv({ SOLANA_RPC_URL: `${receiver}${path}` }, "/health");
    await grows("vault_rpc_rate_limited_total", health, sample(before, "vault_rpc_rate_limited_total", health));
  });

  it("counts recorded job runs by job and outcome, with the time they took", async () => {
    const job = `metrics_probe_${crypto.randomUUID().slice(0, 8)}`;
    await runJobsNow([{ name: job, run: async () => ({ probed: 1 }) }], "test");
    await runJobsNow([{ name: job, run: async () => ({ probed: 2 }) }], "test");
    await runJobsNow(
      [
        {
          name: job,
          run: async () => {
            throw new Error("probe failed");
          },
        },
      ],
      "test",
    );
    const text = await scrape();
    expect(sample(text, "vault_job_runs_total", { job, outcome: "ok" })).toBe(2);
    expect(sample(text, "vault_job_runs_total", { job, outcome: "error" })).toBe(1);
    expect(sample(text, "vault_job_duration_seconds_total", { job })).toBeGreaterThanOrEqual(0);
  });

  it("counts ingested program transactions", async () => {
    const total = (text: string) =>
      ["poll", "cron", "webhook"].reduce(
        (sum, path) => sum + (sample(text, "vault_ingested_transactions_total", { path }) ?? 0),
        0,
      );
    const before = total(await scrape());
    await walletWithVault(1_000_000n);
    await fireCron("* * * * *");
    await eventually(async () => (total(await scrape()) >= before + 2 ? true : undefined), 60_000);
  });

  it("keeps each owner's open sockets as its hub reports them", async () => {
    const owner = Keypair.generate().publicKey.toBase58();
    const openFor = () =>
      runInDurableObject(metricsStub(env as unknown as Bindings), async (_instance, state) => {
        const rows = state.storage.sql
          .exec<{ open: number }>("select open from sockets where owner = ?", owner)
          .toArray();
        return rows[0]?.open ?? 0;
      });
    const first = await openSocket(owner);
    const second = await openSocket(owner);
    await eventually(async () => ((await openFor()) === 2 ? true : undefined), 30_000);
    expect(sample(await scrape(), "vault_websockets_open")).toBeGreaterThanOrEqual(2);
    first.ws.close(1000, "done");
    await eventually(async () => ((await openFor()) === 1 ? true : undefined), 30_000);
    second.ws.close(1000, "done");
    await eventually(async () => ((await openFor()) === 0 ? true : undefined), 30_000);
  });

  it("reports unresolved alerts by severity, ingestion lag and each job's last run from the database", async () => {
    await withDb((db) =>
      raiseAlert(db, {
        kind: "metrics_probe",
        severity: "critical",
        dedupKey: `metrics_probe:${crypto.randomUUID()}`,
        message: "probe",
      }),
    );
    await fireCron("*/5 * * * *");
    const text = await scrape();
    expect(sample(text, "vault_alerts_unresolved", { severity: "critical" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "vault_ingestion_lag_slots")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "vault_chain_head_slot")).toBeGreaterThan(0);
    expect(sample(text, "vault_job_last_success", { job: "tvl" })).toBe(1);
    expect(sample(text, "vault_job_last_run_timestamp_seconds", { job: "tvl" })).toBeGreaterThan(
      Date.now() / 1000 - 600,
    );
    expect(sample(text, "vault_metrics_source_up", { source: "store" })).toBe(1);
  });
});
