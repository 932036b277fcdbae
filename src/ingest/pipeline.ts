/** The ingestion pipeline: cursor → signatures → transactions → decode → one DB transaction per batch → push. */
import { eq } from "drizzle-orm";
import { cursors } from "../db/schema.ts";
import type { Bindings, Services } from "../env.ts";
import { watchBatch } from "../monitor/watchdog.ts";
import type { ChainTx } from "./chain-tx.ts";
import { fetchTransactions, signaturesSince } from "./chain-tx.ts";
import { decodeTx, instructionVaults } from "./decode.ts";
import { acquireLease, releaseLease } from "./lease.ts";
import { batchEvents, publishAll } from "./notify.ts";
import { type BatchResult, commitBatch } from "./store.ts";
import { readVaultStates } from "./vault-state.ts";

export interface IngestOptions {
  /** Transactions fetched and committed together (default 100). */
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
}

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
  const signatures = await signaturesSince(rpc, config.programId, cursor?.signature ?? null);
  const figures: IngestFigures = { signatures: signatures.length, committed: 0, batches: 0, complete: true };
  const size = opts.batchSize ?? 100;
  for (let i = 0; i < signatures.length; i += size) {
    const chunk = signatures.slice(i, i + size).map((s) => s.signature);
    const fetched = await fetchTransactions(rpc, chunk);
    const missing = fetched.indexOf(null);
    const ready = (missing < 0 ? fetched : fetched.slice(0, missing)) as ChainTx[];
    if (ready.length > 0) {
      opts.signal?.throwIfAborted();
      const last = ready[ready.length - 1]!;
      await processBatch(env, services, ready, "poll", { name, signature: last.signature, slot: last.slot });
      await renew();
      figures.committed += ready.length;
      figures.batches++;
      opts.onBatch?.(ready.length);
    }
    if (missing >= 0) {
      figures.complete = false;
      services.log.info("transaction not available yet; pass ends before it", { signature: chunk[missing] });
      break;
    }
  }
  return figures;
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
  cursor?: { name: string; signature: string; slot: bigint },
): Promise<BatchResult> {
  const { config, rpc, log } = services;
  const decoded = txs.map((tx) => decodeTx(tx, config.programId));
  const addresses = [...new Set(decoded.flatMap((d) => (d.tx.err ? instructionVaults(d) : d.vaults)))];
  // bigint slots: Math.max does not take bigints.
  let maxSlot = 0n;
  for (const t of txs) if (t.slot > maxSlot) maxSlot = t.slot;
  const states = await readVaultStates(rpc, config.programId, config.usdtMint, addresses, maxSlot);
  const result = await commitBatch(services.db().db, { decoded, states, source, cursor });
  const byOwner = batchEvents(result);
  await watchBatch(env, services, result, byOwner).catch((err) =>
    log.warn("watchdog failed on a batch", { error: err }),
  );
  await publishAll(env, log, byOwner);
  return result;
}
