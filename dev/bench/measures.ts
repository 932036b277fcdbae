import { type Keypair, Transaction } from "@solana/web3.js";
import pg from "pg";
import type { Localnet } from "../localnet/index.ts";
import { depositFor, type LoadedChain } from "./chain-load.ts";
import type { RpcCounter } from "./rpc-counter.ts";
import { latency, type Row, times } from "./stats.ts";
import { fanoutFigures, openSockets } from "./ws-fanout.ts";

export interface Bench {
  worker: string;
  databaseUrl: string;
  localnet: Localnet;
  counter: RpcCounter;
  loaded: LoadedChain;
  webhookSecret: string;
  log: (what: string) => void;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function rpcCall<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Every program signature on the chain, newest first, with its slot (the truth stored counts are checked against). */
export async function programSignatures(b: Bench): Promise<{ signature: string; slot: number }[]> {
  const out: { signature: string; slot: number }[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await rpcCall<{ signature: string; slot: number }[]>(b.localnet.rpcUrl, "getSignaturesForAddress", [
      b.localnet.programId.toBase58(),
      { limit: 1000, commitment: "confirmed", ...(before ? { before } : {}) },
    ]);
    out.push(...page.map(({ signature, slot }) => ({ signature, slot })));
    if (page.length < 1000) return out;
    before = page[page.length - 1]!.signature;
  }
}

export async function count(client: pg.Client, sql: string): Promise<number> {
  return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
}

/** One timed ingestion of the whole backlog (passes until the stored count meets the chain's). */
async function ingestBacklog(b: Bench, client: pg.Client, onChain: number) {
  b.counter.reset();
  const t0 = performance.now();
  let stored = 0;
  let passes = 0;
  // One pass takes everything after the cursor; another runs only if the node could not return a transaction yet.
  let restarts = 0;
  // Per-phase milliseconds reported by the passes (summed), to show where a batch's time goes.
  const phases: Record<string, number> = {};
  const deadline = Date.now() + 300_000;
  while (stored < onChain && Date.now() < deadline) {
    passes++;
    const res = await fetch(`${b.worker}/__bench/run/ingest`, { method: "POST" });
    const text = await res.text();
    // `wrangler dev` reloads the Worker when a source file changes (others edit the tree): the pass is
    // cursor-driven, so running it again is safe.
    if (res.status === 503 && text.includes("restarted")) {
      restarts++;
      // The reload killed the pass that held the lease: free it instead of waiting out its 60 s.
      await client.query(
        `update cursors set state = '{"holder": null, "expiresAt": 0}'::jsonb where name like 'ingest-lease:%'`,
      );
      continue;
    }
    if (!res.ok) throw new Error(`ingestion pass failed: ${res.status} ${text}`);
    const pass = JSON.parse(text) as { data?: { result?: { phases?: Record<string, number> } } };
    for (const [k, v] of Object.entries(pass.data?.result?.phases ?? {})) phases[k] = (phases[k] ?? 0) + v;
    const before = stored;
    stored = await count(client, "select count(*) as n from chain_transactions");
    if (stored === before) await sleep(1_000);
  }
  const ms = performance.now() - t0;
  return { stored, ms, passes, restarts, phases, rate: (stored / ms) * 1000, rpcCalls: b.counter.requests };
}

/**
 * Ingestion of the whole backlog by the Worker's pass, twice from an empty cache — with no owner listening (the
 * usual backlog: no hub is woken), then with every owner subscribed (one Durable Object call per owner per batch) —
 * against one-by-one fetch-and-insert.
 */
export async function benchIngest(b: Bench) {
  const signatures = await programSignatures(b);
  b.log(`ingest: ${signatures.length} program transactions on chain; ingestion with no owner listening`);
  const client = new pg.Client({ connectionString: b.databaseUrl });
  await client.connect();
  try {
    const quiet = await ingestBacklog(b, client, signatures.length);
    const quietExact = quiet.stored === signatures.length;
    b.log(`ingest: ${Math.round(quiet.rate)} tx/s; phases (ms) ${JSON.stringify(quiet.phases)}`);

    // Again from an empty cache, every vault owner now subscribed: the cost of publishing to their hubs.
    // BENCH_INGEST_SUBSCRIBED=0 skips it (at 100,000 vaults it creates 100,000 local hubs).
    const owners = await count(client, "select count(*) as n from vaults");
    let heard = quiet;
    if (process.env.BENCH_INGEST_SUBSCRIBED !== "0") {
      await client.query("insert into socket_subscribers (owner) select owner from vaults on conflict do nothing");
      await client.query("truncate chain_transactions, transactions, vaults, alerts, balance_snapshots cascade");
      await client.query("delete from cursors where name like 'ingest%'");
      b.log(`ingest: again with ${owners} owners subscribed`);
      heard = await ingestBacklog(b, client, signatures.length);
      b.log(`ingest (subscribed): ${Math.round(heard.rate)} tx/s; phases (ms) ${JSON.stringify(heard.phases)}`);
    }

    // Baseline: what a naive ingester does, on a sample: getTransaction, then one INSERT, one at a time.
    await client.query("create table if not exists bench_naive (signature text primary key, tx jsonb)");
    const sample = signatures.slice(0, 500);
    const n0 = performance.now();
    for (const { signature: sig } of sample) {
      const tx = await rpcCall(b.localnet.rpcUrl, "getTransaction", [
        sig,
        { encoding: "json", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
      ]);
      await client.query("insert into bench_naive values ($1, $2) on conflict do nothing", [sig, JSON.stringify(tx)]);
    }
    const naiveRate = (sample.length / (performance.now() - n0)) * 1000;
    const naive = `one-by-one fetch+insert: ${Math.round(naiveRate)} tx/s (sample of ${sample.length})`;
    const describe = (r: typeof quiet) =>
      `${Math.round(r.rate)} tx/s (${seconds(r.ms)}, ${r.passes} pass(es), ${r.restarts} Worker reloads, ${r.rpcCalls} RPC requests)`;
    const rows: Row[] = [
      {
        measure: `Ingest backlog of ${signatures.length} program txs, no owner listening`,
        result: describe(quiet),
        baseline: naive,
        ratio: times(quiet.rate / naiveRate),
      },
      ...(heard === quiet
        ? []
        : [
            {
              measure: `Ingest the same backlog, all ${owners} owners subscribed (hub calls)`,
              result: describe(heard),
              baseline: naive,
              ratio: times(heard.rate / naiveRate),
            },
          ]),
      {
        measure: "Ingest: stored count vs chain (both runs)",
        result: `${quiet.stored} / ${heard.stored} stored`,
        baseline: `${signatures.length} on chain`,
        ratio:
          quietExact && heard.stored === signatures.length
            ? "exact"
            : `MISMATCH (${quiet.stored - signatures.length} / ${heard.stored - signatures.length})`,
      },
    ];
    return {
      rows,
      stored: quiet.stored,
      onChain: signatures.length,
      ms: quiet.ms,
      phases: quiet.phases,
      rpcCalls: quiet.rpcCalls,
      subscribed: { owners, ...heard },
      methods: Object.fromEntries(b.counter.methods),
      naiveRate,
    };
  } finally {
    await client.end();
  }
}

/** Sequential POST /vault/deposit builds for funded owners: p50/p99. */
export async function benchBuild(b: Bench) {
  const sample: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const n = Number(process.env.BENCH_BUILDS ?? 200);
  b.log(`build: ${n} POST /vault/deposit`);
  for (let i = 0; i < n; i++) {
    const owner = b.loaded.funded[i % b.loaded.funded.length]!.publicKey.toBase58();
    const t0 = performance.now();
    const res = await fetch(`${b.worker}/vault/deposit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userPubkey: owner, amount: 1_000 + i }),
    });
    const text = await res.text();
    sample.push(performance.now() - t0);
    if (!res.ok) {
      errors++;
      firstError ??= `${res.status} ${text.slice(0, 200)}`;
    }
  }
  const l = latency(sample);
  const rows: Row[] = [
    {
      measure: "Transaction build (POST /vault/deposit, sequential)",
      result: `p50 ${l.p50} ms, p99 ${l.p99} ms, ${errors} errors of ${n}`,
      baseline: "—",
      ratio: "—",
    },
  ];
  return { rows, ...l, errors, firstError };
}

/** Sets the localnet's injected latency on every JSON-RPC request (0 = none). */
async function injectLatency(b: Bench, latencyMs: number): Promise<void> {
  const res = await fetch(`${b.localnet.rpcUrl}/localnet/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ latencyMs }),
  });
  await res.text();
}

/**
 * RPC round trips per build and per relay, by latency injection: the same sequential requests with 0 and with L ms
 * added to every RPC request; (p50 at L − p50 at 0) / L is how many round trips a request waits for.
 */
export async function benchRoundTrips(b: Bench) {
  const L = Number(process.env.BENCH_LATENCY_MS ?? 50);
  const n = Number(process.env.BENCH_ROUND_TRIP_SAMPLES ?? 40);
  const owners = b.loaded.funded;
  const build = async (i: number) => {
    const owner = owners[i % owners.length]!;
    const t0 = performance.now();
    const res = await fetch(`${b.worker}/vault/deposit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userPubkey: owner.publicKey.toBase58(), amount: 2_000 + i }),
    });
    const body = (await res.json()) as { data?: { unsignedTransaction: string; transactionId: string } };
    return { ms: performance.now() - t0, owner, data: body.data };
  };
  const relay = async (i: number) => {
    const built = await build(i);
    if (!built.data) return null;
    const tx = Transaction.from(Buffer.from(built.data.unsignedTransaction, "base64"));
    tx.sign(built.owner);
    const t0 = performance.now();
    const res = await fetch(`${b.worker}/vault/submit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        signedTransaction: tx.serialize().toString("base64"),
        transactionId: built.data.transactionId,
      }),
    });
    await res.text();
    return res.status === 202 ? performance.now() - t0 : null;
  };
  const measure = async (latencyMs: number) => {
    await injectLatency(b, latencyMs);
    const builds: number[] = [];
    const relays: number[] = [];
    for (let i = 0; i < n; i++) builds.push((await build(i + latencyMs * 1_000)).ms);
    for (let i = 0; i < n / 2; i++) {
      const ms = await relay(i + 500_000 + latencyMs * 1_000);
      if (ms !== null) relays.push(ms);
    }
    return { build: latency(builds).p50, relay: latency(relays).p50, relays: relays.length };
  };
  b.log(`round trips: ${n} builds and ${n / 2} relays at 0, ${L} and ${2 * L} ms of RPC latency`);
  const at0 = await measure(0);
  const atL = await measure(L);
  const at2L = await measure(2 * L);
  await injectLatency(b, 0);
  const trips = (a: number, z: number) => Math.round(((z - a) / L) * 100) / 100;
  // (p50 at L − p50 at 0) / L counts, besides round trips, the localnet's own queueing: its single thread serves
  // requests whose delays end together one after another. The slope between L and 2L does not: that queueing is the
  // same at both.
  const rows: Row[] = [
    {
      measure: `RPC round trips per build (POST /vault/deposit, ${L} and ${2 * L} ms injected per RPC request)`,
      result: `${trips(atL.build, at2L.build)} round trips (slope ${L}→${2 * L} ms)`,
      baseline: `(p50 at ${L} − p50 at 0)/${L} = ${trips(at0.build, atL.build)}; p50 ${at0.build} / ${atL.build} / ${at2L.build} ms`,
      ratio: "—",
    },
    {
      measure: `RPC round trips per relay (POST /vault/submit of a signed deposit, ${L} and ${2 * L} ms injected)`,
      result: `${trips(atL.relay, at2L.relay)} round trips (slope ${L}→${2 * L} ms)`,
      baseline: `(p50 at ${L} − p50 at 0)/${L} = ${trips(at0.relay, atL.relay)}; p50 ${at0.relay} / ${atL.relay} / ${at2L.relay} ms`,
      ratio: "—",
    },
  ];
  return { rows, at0, atL, at2L, latencyMs: L };
}

/**
 * 1,000 sockets over 100 owners; one deposit per owner on chain; time until each socket hears it, with nothing but
 * the push path (ChainStream's logsSubscribe) and the Ingestor's poll: no webhook. Each event's latency is split by
 * the path that committed its transaction (chain_transactions.source). Measured from the submission (the localnet
 * confirms in the next slot), so an upper bound of confirmed → socket.
 */
export async function benchPushFanout(b: Bench) {
  const ideal = await pushFanoutOnce(b, 0);
  const latencyMs = Number(process.env.BENCH_PUSH_LATENCY_MS ?? 40);
  const slow = latencyMs > 0 ? await pushFanoutOnce(b, latencyMs) : null;
  return { rows: [...ideal.rows, ...(slow?.rows ?? [])], ideal, slow };
}

async function pushFanoutOnce(b: Bench, latencyMs: number) {
  await injectLatency(b, latencyMs);
  const owners = b.loaded.funded.slice(0, 100);
  const status = (await (await fetch(`${b.worker}/__bench/chain-stream`, { method: "POST" })).json()) as {
    data?: { state?: string };
  };
  for (let i = 0; i < 50 && status.data?.state !== "open"; i++) {
    await sleep(200);
    Object.assign(status, await (await fetch(`${b.worker}/__bench/chain-stream`, { method: "POST" })).json());
  }
  b.log(`push fan-out: stream ${status.data?.state}; opening ${owners.length * 10} sockets`);
  const sockets = await openSockets(
    b.worker,
    owners.map((o) => o.publicKey.toBase58()),
    10,
  );
  await sleep(2_000);
  const sent = new Map<string, { signature: string; at: number }>();
  for (const owner of owners) {
    sent.set(owner.publicKey.toBase58(), depositOnChain(b, owner));
    // One deposit per slot-ish, as independent users would send them (not one burst).
    await sleep(20);
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (sockets.every((s) => s.arrivals.has(sent.get(s.owner)!.signature) || s.closed)) break;
    await sleep(100);
  }
  const figures = fanoutFigures(sockets, sent);
  for (const s of sockets) s.ws.terminate();
  await injectLatency(b, 0);
  const client = new pg.Client({ connectionString: b.databaseUrl });
  await client.connect();
  const sources = new Map<string, string>();
  try {
    const { rows } = await client.query<{ signature: string; source: string }>(
      "select signature, source from chain_transactions where signature = any($1)",
      [[...sent.values()].map((s) => s.signature)],
    );
    for (const r of rows) sources.set(r.signature, r.source);
  } finally {
    await client.end();
  }
  const byPath = new Map<string, number[]>();
  for (const s of sockets) {
    const event = sent.get(s.owner)!;
    const at = s.arrivals.get(event.signature);
    if (at === undefined) continue;
    const path = sources.get(event.signature) ?? "unknown";
    byPath.set(path, [...(byPath.get(path) ?? []), at - event.at]);
  }
  const split = [...byPath.entries()].map(([path, sample]) => ({ path, events: sample.length, ...latency(sample) }));
  const rows: Row[] = [
    {
      measure: `Push path fan-out: ${sockets.length} sockets / ${owners.length} owners (no webhook), ${latencyMs} ms RPC latency`,
      result: `chain-to-socket p50 ${figures.p50} ms, p99 ${figures.p99} ms`,
      baseline: `${figures.lost} events lost, ${figures.closed} sockets closed; by path: ${split
        .map((x) => `${x.path} ${x.events} events p50 ${x.p50} ms p99 ${x.p99} ms`)
        .join("; ")}`,
      ratio: "—",
    },
  ];
  return { rows, ...figures, sockets: sockets.length, byPath: split };
}

/** 1,000 sockets over 100 owners; one deposit per owner on chain; time until each socket hears it. */
export async function benchFanout(b: Bench) {
  const owners = b.loaded.funded.slice(0, 100);
  b.log(`fan-out: opening ${owners.length * 10} sockets`);
  const sockets = await openSockets(
    b.worker,
    owners.map((o) => o.publicKey.toBase58()),
    10,
  );
  await sleep(2_000);
  const sent = new Map<string, { signature: string; at: number }>();
  for (const owner of owners) sent.set(owner.publicKey.toBase58(), depositOnChain(b, owner));
  // Pushed at once, as Helius would: the webhook path; the Ingestor's poll is the fallback.
  await fetch(`${b.worker}/webhooks/helius`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: b.webhookSecret },
    body: JSON.stringify([...sent.values()].map((s) => ({ signature: s.signature }))),
  }).then((r) => r.text());
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const done = sockets.every((s) => s.arrivals.has(sent.get(s.owner)!.signature) || s.closed);
    if (done) break;
    await sleep(100);
  }
  const figures = fanoutFigures(sockets, sent);
  for (const s of sockets) s.ws.terminate();
  const rows: Row[] = [
    {
      measure: `WebSocket fan-out: ${sockets.length} sockets / ${owners.length} owners`,
      result: `chain-to-socket p50 ${figures.p50} ms, p99 ${figures.p99} ms`,
      baseline: `${figures.lost} events lost, ${figures.closed} sockets closed${
        figures.closed
          ? ` (${Object.entries(figures.closeReasons)
              .map(([k, v]) => `${v}× ${k}`)
              .join(", ")})`
          : ""
      }`,
      ratio: "—",
    },
  ];
  return { rows, ...figures, sockets: sockets.length };
}

function depositOnChain(b: Bench, owner: Keypair): { signature: string; at: number } {
  const at = performance.now();
  const r = b.localnet.chain.submit([depositFor(b.localnet, owner, 1_000_000n)], [owner]);
  if (r.meta.err) throw new Error(`deposit failed: ${JSON.stringify(r.meta.err)}`);
  return { signature: r.signature, at };
}
