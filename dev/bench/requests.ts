/**
 * `node dev/bench/requests.ts`: what each unit of work costs in Solana RPC requests (by method, items counted too),
 * Worker CPU and database growth, on the local stack — the figures behind README "Deploying"'s cost estimate.
 *
 * The stack runs with its background loops idle (no cron ticker, the Ingestor's interval and the Scheduler's at an
 * hour), and the Worker's RPC goes through a counting proxy (dev/bench/rpc-counter.ts); each measure resets the
 * counter, does one thing through the API or a /__bench/run route, waits until the RPC is quiet, and reads the
 * counts and the CPU time workerd used (from /proc). REQ_VAULTS (default 2,000) vaults and REQ_BACKLOG (2,000)
 * program transactions are loaded first.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { VersionedTransaction } from "@solana/web3.js";
import pg from "pg";
import { fireCrons } from "../cron.ts";
import { stackVars, startStack } from "../local-stack.ts";
import { freePort } from "../ports.ts";
import { DEV_DIR, testDatabase } from "../stack.ts";
import { type LoadedChain, loadChain } from "./chain-load.ts";
import { type RpcCounter, startRpcCounter } from "./rpc-counter.ts";
import { machine } from "./stats.ts";

const VAULTS = Number(process.env.REQ_VAULTS ?? 2_000);
const BACKLOG = Number(process.env.REQ_BACKLOG ?? 2_000);
const BUILDS = 20;

interface Measure {
  what: string;
  per: number;
  requests: number;
  items: number;
  methods: Record<string, number>;
  cpuMs: number;
}

const results: Measure[] = [];
let counter!: RpcCounter;
let loaded!: LoadedChain;
let workerGroup = 0;

/** CPU time (ms) used so far by the processes of wrangler's group (workerd does the Worker's work). */
function groupCpuMs(): number {
  const tick = 10; // Linux USER_HZ = 100
  let total = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== workerGroup) continue; // pgrp
      total += (Number(fields[11]) + Number(fields[12])) * tick; // utime + stime
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** Waits until no RPC request arrived for `quietMs` (the Worker's background work of the step is done). */
async function settle(quietMs = 1_500): Promise<void> {
  let last = -1;
  while (counter.requests !== last) {
    last = counter.requests;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

async function measure(what: string, per: number, work: () => Promise<unknown>): Promise<Measure> {
  await settle(500);
  counter.reset();
  const cpu0 = groupCpuMs();
  await work();
  await settle();
  const methods = Object.fromEntries(counter.methods);
  const m: Measure = {
    what,
    per,
    requests: counter.requests,
    items: Object.values(methods).reduce((a, b) => a + b, 0),
    methods,
    cpuMs: groupCpuMs() - cpu0,
  };
  results.push(m);
  console.log(`${what}: ${m.requests} requests, ${m.items} items ${JSON.stringify(methods)}, ${m.cpuMs} ms CPU`);
  return m;
}

async function post(url: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { success: boolean; data: Record<string, unknown>; error?: unknown };
  if (!json.success) throw new Error(`${url}: ${res.status} ${JSON.stringify(json.error)}`);
  return json.data;
}

async function databaseBytes(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("select pg_database_size(current_database())::text as n");
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

const stack = await startStack({
  database: testDatabase,
  localnet: { port: 0, slotMs: 100, finalityDepth: 4, quiet: true },
  beforeWorker: async ({ localnet }) => {
    counter = await startRpcCounter(localnet!.rpcUrl);
    console.log(`loading ${VAULTS} vaults and ${BACKLOG} program transactions`);
    loaded = await loadChain(localnet!, { vaults: VAULTS, funded: BUILDS, backlog: BACKLOG });
  },
  worker: {
    port: await freePort(),
    stateDir: join(DEV_DIR, `requests-${process.pid}`),
    vars: (parts) => ({
      ...stackVars(parts),
      SOLANA_RPC_URL: counter.url,
      API_KEYS: "bench:admin:bench-admin-key-0123456789abcdef",
      BENCH_ROUTES: "true",
      RATE_LIMIT_IP_PER_MINUTE: "0",
      RATE_LIMIT_OWNER_PER_MINUTE: "0",
      RATE_LIMIT_GLOBAL_BUILDS_PER_MINUTE: "0",
      WS_MAX_ANONYMOUS_PER_CLIENT: "0",
      WS_MAX_ANONYMOUS_PER_OWNER: "0",
      LOG_LEVEL: "error",
      INGEST_INTERVAL_MS: "600000",
      BALANCE_CHECK_INTERVAL: "3600",
      RECONCILIATION_MAX_BATCHES: "500",
    }),
  },
});
try {
  const api = stack.worker.url;
  workerGroup = stack.worker.process.pid!;
  const host = machine();
  console.log(`machine: ${host.cpu}, ${host.cores} cores; worker ${api}`);

  const bytes0 = await databaseBytes(stack.database.url);
  await measure(
    `ingest a backlog of ${loaded.programTransactions} program transactions (one pass)`,
    loaded.programTransactions,
    () => post(`${api}/__bench/run/ingest`),
  );
  const bytes1 = await databaseBytes(stack.database.url);
  console.log(`database grew ${bytes1 - bytes0} bytes for ${loaded.programTransactions} transactions`);
  await measure("ingestion poll with nothing new (one Ingestor alarm pass)", 1, () =>
    post(`${api}/__bench/run/ingest`),
  );
  await measure(`reconciliation round over ${VAULTS} vaults`, VAULTS, () => post(`${api}/__bench/run/reconciliation`));
  await measure(`TVL job over ${VAULTS} vaults`, VAULTS, () => post(`${api}/__bench/run/tvl`));
  await measure(`Scheduler interval jobs (balance snapshots + low balance) over ${VAULTS} vaults`, VAULTS, () =>
    post(`${api}/__bench/run/interval`),
  );
  // The minute cron: ingest job (+ the Ingestor pass its kick starts, + finalization), reconciliation (not due),
  // Scheduler backstop, alert delivery (no webhook).
  await measure("minute cron with nothing new", 1, () => fireCrons(api, ["* * * * *"], console.log));
  await measure(`POST /vault/deposit build (×${BUILDS})`, BUILDS, async () => {
    for (const [i, owner] of loaded.funded.entries()) {
      await post(`${api}/vault/deposit`, { userPubkey: owner.publicKey.toBase58(), amount: 1_000 + i });
    }
  });
  const relayer = loaded.funded[0]!;
  let transactionId = "";
  await measure("relay: POST /vault/submit until the request is confirmed (owner hub alarm)", 1, async () => {
    const built = await post(`${api}/vault/deposit`, { userPubkey: relayer.publicKey.toBase58(), amount: 7_777 });
    transactionId = String(built.transactionId);
    const tx = VersionedTransaction.deserialize(Buffer.from(String(built.unsignedTransaction), "base64"));
    tx.sign([relayer]);
    await post(`${api}/vault/submit`, {
      signedTransaction: Buffer.from(tx.serialize()).toString("base64"),
      transactionId,
    });
    for (let i = 0; i < 120; i++) {
      const res = await fetch(`${api}/transactions/${transactionId}`);
      const status = ((await res.json()) as { data: { status: string } }).data.status;
      if (status !== "pending" && status !== "submitted") return;
      await new Promise((r) => setTimeout(r, 500));
    }
  });
  await measure("GET /health", 1, () => fetch(`${api}/health`).then((r) => r.text()));
  await measure("GET /metrics scrape", 1, () =>
    fetch(`${api}/metrics`, { headers: { "x-api-key": "bench-admin-key-0123456789abcdef" } }).then((r) => r.text()),
  );

  console.log("\n| measure | RPC requests | JSON-RPC items | by method (items) | workerd CPU |");
  console.log("|---|---|---|---|---|");
  for (const m of results) {
    const methods = Object.entries(m.methods)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    console.log(`| ${m.what} | ${m.requests} | ${m.items} | ${methods} | ${m.cpuMs} ms |`);
  }
} finally {
  await stack.stop();
  await counter?.close();
}
process.exit(0);
