/** The ingestion pipeline: cursor → signatures → transactions → decode → one DB transaction per batch → push. */
import { eq } from "drizzle-orm";
import { cursors } from "../db/schema.ts";
import type { Bindings, Services } from "../env.ts";
import { watchBatch } from "../monitor/watchdog.ts";
import type { OwnerEvent } from "../realtime/publish.ts";
import type { ChainTx } from "./chain-tx.ts";
import { fetchTransactions, signaturesSince } from "./chain-tx.ts";
import { type DecodedTx, decodeTx, instructionVaults } from "./decode.ts";
import { acquireLease, releaseLease } from "./lease.ts";
import { batchEvents, publishAll } from "./notify.ts";
import { type BatchResult, commitBatch } from "./store.ts";
import { readVaultStates, type VaultState } from "./vault-state.ts";

export interface IngestOptions {
  /**
   * Transactions committed together, in one database transaction (default 500; fetched 100 per JSON-RPC batch). Each
   * owner's hub gets one call per batch, so larger batches mean fewer hub calls and fewer commits.
   */
  batchSize?: number;
  /** Checked before each commit: an aborted pass stops without committing the batch in hand. */
  signal?: AbortSignal;
  /** Called after each batch commits, with the number of transactions it held. */
  onBatch?: (transactions: number) => void;
}

export interface IngestFigures {
  signatures: number;
  committed: number;
  batches: number;
  complete: boolean;
  /** True when another pass held the ingestion lease, so this one did nothing. */
  busy?: boolean;
  /** Milliseconds spent per phase over the pass (summed over batches). */
  phases?: Record<string, number>;
}

type Phases = Record<string, number>;

async function phase<T>(phases: Phases | undefined, name: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await work();
  } finally {
    if (phases) phases[name] = (phases[name] ?? 0) + Date.now() - t0;
  }
}

const DEFAULT_BATCH = 500;

/** How often a pass renews its ingestion lease (well inside LEASE_MS). */
const LEASE_RENEW_MS = 5_000;

function leaseName(programId: string): string {
  return `ingest-lease:${programId}`;
}

/** Runs `work` while holding the ingestion lease; null when another pass holds it. */
async function withLease<T>(services: Services, work: (renew: () => Promise<void>) => Promise<T>): Promise<T | null> {
  const { db } = services.db();
  const name = leaseName(services.config.programId.toBase58());
  const holder = crypto.randomUUID();
  if (!(await acquireLease(db, name, holder))) return null;
  try {
    return await work(async () => {
      await acquireLease(db, name, holder);
    });
  } finally {
    await releaseLease(db, name, holder).catch((err) => services.log.warn("lease release failed", { error: err }));
  }
}

/** Name of the ingestion cursor of a program in the `cursors` table. */
export function cursorName(programId: string): string {
  return `ingest:${programId}`;
}

/**
 * One pass: every program transaction after the cursor, oldest first. The cursor moves inside each batch's database
 * transaction, to the newest signature of the batch, so a pass that dies mid-batch leaves the cursor where the
 * last committed batch put it. A transaction the node cannot return yet ends the pass (it is retried next time;
 * nothing after it is committed, so there is never a hole behind the cursor).
 */
export async function ingestFromCursor(
  env: Bindings,
  services: Services,
  opts: IngestOptions = {},
): Promise<IngestFigures> {
  const figures = await withLease(services, (renew) => ingestPass(env, services, opts, renew));
  return figures ?? { signatures: 0, committed: 0, batches: 0, complete: false, busy: true };
}

async function ingestPass(
  env: Bindings,
  services: Services,
  opts: IngestOptions,
  renew: () => Promise<void>,
): Promise<IngestFigures> {
  const { config, rpc } = services;
  const { db } = services.db();
  const name = cursorName(config.programId.toBase58());
  const [cursor] = await db.select().from(cursors).where(eq(cursors.name, name)).limit(1);
  const phases: Phases = {};
  const signatures = await phase(phases, "signatures", () =>
    signaturesSince(rpc, config.programId, cursor?.signature ?? null),
  );
  const figures: IngestFigures = { signatures: signatures.length, committed: 0, batches: 0, complete: true, phases };
  const size = opts.batchSize ?? DEFAULT_BATCH;
  const chunks: string[][] = [];
  for (let i = 0; i < signatures.length; i += size) chunks.push(signatures.slice(i, i + size).map((s) => s.signature));
  // Reading the chain for batch N+1 (getTransaction batch, decode, vault re-read) runs while batch N commits and
  // publishes; the publish of batch N runs while batch N+1 commits. Each owner still gets batch N's call before
  // batch N+1's (the next publish starts only after the previous one ended), and the pass ends only after its
  // last publish, so the lease keeps covering it.
  const prepare = (chunk: string[]) => phase(phases, "read", () => readBatch(services, chunk));
  let next: Promise<ReadBatch> | null = chunks.length > 0 ? prepare(chunks[0]!) : null;
  let publishing: Promise<unknown> = Promise.resolve();
  let renewedAt = Date.now();
  try {
    for (let i = 0; next; i++) {
      const batch = await phase(phases, "waitRead", () => next!);
      next = null;
      if (batch.missing < 0 && i + 1 < chunks.length) {
        next = prepare(chunks[i + 1]!);
        // Awaited on the next turn; until then a failure must not surface as an unhandled rejection.
        next.catch(() => {});
      }
      if (batch.decoded.length > 0) {
        opts.signal?.throwIfAborted();
        const last = batch.decoded[batch.decoded.length - 1]!.tx;
        const cursorAt = { name, signature: last.signature, slot: last.slot };
        const { byOwner } = await applyBatch(env, services, batch, "poll", cursorAt, phases);
        await phase(phases, "waitPublish", () => publishing);
        publishing = phase(phases, "publish", () => publishAll(env, services, byOwner));
        // Renewing costs two statements: every few seconds is plenty for a 60-second lease.
        if (Date.now() - renewedAt > LEASE_RENEW_MS) {
          await renew();
          renewedAt = Date.now();
        }
        figures.committed += batch.decoded.length;
        figures.batches++;
        opts.onBatch?.(batch.decoded.length);
      }
      if (batch.missing >= 0) {
        figures.complete = false;
        services.log.info("transaction not available yet; pass ends before it", {
          signature: chunks[i]![batch.missing],
        });
        break;
      }
    }
  } finally {
    await publishing;
  }
  return figures;
}

/** A batch read from the chain and decoded, with its vaults re-read; `missing` is the first absent index or -1. */
interface ReadBatch {
  decoded: DecodedTx[];
  states: Map<string, VaultState>;
  missing: number;
}

/** Fetches a chunk of signatures; decodes and re-reads the vaults of the transactions before the first missing one. */
async function readBatch(services: Services, chunk: string[]): Promise<ReadBatch> {
  const fetched = await fetchTransactions(services.rpc, chunk);
  const missing = fetched.indexOf(null);
  const ready = (missing < 0 ? fetched : fetched.slice(0, missing)) as ChainTx[];
  return { ...(await decodeAndRead(services, ready)), missing };
}

/** Decodes the transactions and reads the vaults they touch, at a slot no older than the newest of them. */
async function decodeAndRead(services: Services, txs: ChainTx[]) {
  const { config, rpc } = services;
  const decoded = txs.map((tx) => decodeTx(tx, config.programId));
  if (decoded.length === 0) return { decoded, states: new Map<string, VaultState>() };
  const addresses = [...new Set(decoded.flatMap((d) => (d.tx.err ? instructionVaults(d) : d.vaults)))];
  // bigint slots: Math.max does not take bigints.
  let maxSlot = 0n;
  for (const t of txs) if (t.slot > maxSlot) maxSlot = t.slot;
  const states = await readVaultStates(rpc, config.programId, config.usdtMint, addresses, maxSlot);
  return { decoded, states };
}

/**
 * Ingests specific signatures (the webhook's): the same decoding and commit, without touching the cursor. A
 * signature already committed is skipped by the commit; one the node cannot return yet is left to the poll.
 */
export async function ingestSignatures(env: Bindings, services: Services, signatures: string[]): Promise<number> {
  // Wait briefly for a running pass; if it is still busy, the poll will pick these signatures up anyway.
  for (let attempt = 0; attempt < 25; attempt++) {
    const committed = await withLease(services, () => ingestSignaturesLeased(env, services, signatures));
    if (committed !== null) return committed;
    await new Promise((r) => setTimeout(r, 200));
  }
  services.log.info("ingestion busy; webhook signatures left to the poll", { count: signatures.length });
  return 0;
}

async function ingestSignaturesLeased(env: Bindings, services: Services, signatures: string[]): Promise<number> {
  let committed = 0;
  for (let i = 0; i < signatures.length; i += 100) {
    const fetched = await fetchTransactions(services.rpc, signatures.slice(i, i + 100));
    const ready = fetched.filter((t): t is ChainTx => t !== null).sort((a, b) => (a.slot < b.slot ? -1 : 1));
    if (ready.length === 0) continue;
    const result = await processBatch(env, services, ready, "webhook");
    committed += result.committed.length;
  }
  return committed;
}

/** Decodes, reads the touched vaults, commits, then announces what this commit (and only it) changed. */
async function processBatch(
  env: Bindings,
  services: Services,
  txs: ChainTx[],
  source: "poll" | "webhook",
): Promise<BatchResult> {
  const { result, byOwner } = await applyBatch(env, services, await decodeAndRead(services, txs), source);
  await publishAll(env, services, byOwner);
  return result;
}

/** Commits a decoded batch (one database transaction), then runs the watchdog; returns what to publish. */
async function applyBatch(
  env: Bindings,
  services: Services,
  batch: { decoded: DecodedTx[]; states: Map<string, VaultState> },
  source: "poll" | "webhook",
  cursor?: { name: string; signature: string; slot: bigint },
  phases?: Phases,
): Promise<{ result: BatchResult; byOwner: Map<string, OwnerEvent[]> }> {
  const { decoded, states } = batch;
  const result = await phase(phases, "commit", () =>
    commitBatch(services.db().db, { decoded, states, source, cursor, phases }),
  );
  const byOwner = batchEvents(result);
  await phase(phases, "watch", () =>
    watchBatch(env, services, result, byOwner).catch((err) =>
      services.log.warn("watchdog failed on a batch", { error: err }),
    ),
  );
  return { result, byOwner };
}
