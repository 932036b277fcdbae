/** The ingestion pipeline: cursor → signatures → transactions → decode → one DB transaction per batch → push. */
import { eq, sql } from "drizzle-orm";
import type { ChainTx, SignatureInfo } from "../chain/chain-tx.ts";
import { fetchTransactions, isChainTx, walkSignatures } from "../chain/chain-tx.ts";
import type { SolanaRpc } from "../chain/rpc.ts";
import type { Database } from "../db/client.ts";
import { acquireLease, releaseLease } from "../db/lease.ts";
import { cursors } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { chunks } from "../lib/chunks.ts";
import type { Services } from "../platform/services.ts";
import type { OwnerEvent } from "../realtime/publish.ts";
import { readVaultStates, type VaultState } from "../vault/vault-state.ts";
import { type DecodedTx, decodeTx, instructionVaults } from "./decode.ts";
import { archiveRpc, closeGaps, openGaps, recordGaps, sortFetched } from "./gaps.ts";
import { publishAll } from "./notify.ts";
import { batchEvents } from "./owner-events.ts";
import { type Phases, timed } from "./phases.ts";
import { type BatchResult, commitBatch } from "./store.ts";
import { watchBatch } from "./watchdog.ts";

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
  /** Signatures per getSignaturesForAddress page (default 1,000, the RPC's maximum). */
  pageSize?: number;
  /**
   * Pages one pass may walk (default 20, i.e. 20,000 signatures): a longer backlog — a first start against a
   * program with a long history, or a long outage — is walked over several passes, never held whole in memory.
   */
  maxPages?: number;
  /**
   * Name of the ingestion stream: its cursor and lease are `ingest:<stream>` and `ingest-lease:<stream>` (default:
   * the program id). A second stream (e.g. against another cluster) never moves the first one's cursor.
   */
  stream?: string;
}

/** What the cursor row keeps besides the position: where unfinished walks stopped (newest segment first). */
interface StreamState {
  /** Stack of walk frontiers: the next walk starts below the last one; emptied oldest segment first. */
  frontiers?: string[];
  /** Slot of each frontier (absent in rows written before it was kept: 0). */
  frontierSlots?: number[];
}

const DEFAULT_MAX_PAGES = 20;

export interface IngestFigures {
  signatures: number;
  committed: number;
  batches: number;
  complete: boolean;
  /** True when another pass held the ingestion lease, so this one did nothing. */
  busy?: boolean;
  /** Stretches of the backlog walked but not yet ingested (more than one pass's walk behind). */
  pendingSegments?: number;
  /** Milliseconds spent per phase over the pass (summed over batches). */
  phases?: Record<string, number>;
  /** Transactions the provider had pruned and the archive could not give: recorded as gaps and skipped. */
  gaps?: number;
  /** Open gaps of earlier passes filled from the archive in this pass. */
  backfilled?: number;
  /** The confirmed head this pass looked up to (a complete pass from the newest). */
  lookedAtSlot?: number;
}

const DEFAULT_BATCH = 500;

/** How often a pass renews its ingestion lease (well inside LEASE_MS). */
const LEASE_RENEW_MS = 5_000;

function leaseName(programId: string): string {
  return `ingest-lease:${programId}`;
}

/** Runs `work` while holding the ingestion lease; null when another pass holds it. */
async function withLease<T>(
  services: Services,
  work: (renew: () => Promise<void>) => Promise<T>,
  stream?: string,
): Promise<T | null> {
  const { db } = services.db();
  const name = leaseName(stream ?? services.config.programId.toBase58());
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
 * nothing after it is committed, so there is never a hole behind the cursor) — unless it is older than the
 * provider's history (RPC_HISTORY_SLOTS): then it comes from the archive, or is recorded as a gap and skipped
 * (gaps.ts), so a pruned transaction never stalls ingestion.
 */
export async function ingestFromCursor(
  env: Bindings,
  services: Services,
  opts: IngestOptions = {},
): Promise<IngestFigures> {
  const figures = await withLease(services, (renew) => ingestPass(env, services, opts, renew), opts.stream);
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
  const name = cursorName(opts.stream ?? config.programId.toBase58());
  const [cursor] = await db.select().from(cursors).where(eq(cursors.name, name)).limit(1);
  const state = (cursor?.state ?? {}) as StreamState;
  const frontiers = state.frontiers ?? [];
  const frontierSlots = frontiers.map((_, i) => state.frontierSlots?.[i] ?? 0);
  // A node behind the frontier would not know it (and answer an empty page, which reads as "met the cursor").
  const minContextSlot = Math.max(Number(cursor?.slot ?? 0), frontierSlots.at(-1) ?? 0);
  const phases: Phases = {};
  // Walk from the newest (or from below the last frontier) back to the cursor, at most maxPages pages.
  const walk = await timed(phases, "signatures", () =>
    walkSignatures(rpc, config.programId, {
      before: frontiers.at(-1) ?? null,
      until: cursor?.signature ?? null,
      minContextSlot: minContextSlot > 0 ? minContextSlot : undefined,
      pageSize: opts.pageSize,
      maxPages: opts.maxPages ?? DEFAULT_MAX_PAGES,
      // Only a walk from the newest looks up to the head (a walk below a frontier looks at an older stretch).
      withHead: frontiers.length === 0,
    }),
  );
  const { signatures } = walk;
  if (!walk.metUntil) {
    // Too far behind for one walk: nothing can be committed before the stretch down to the cursor is known (there
    // would be a hole behind it). Remember where this walk stopped; the next pass walks on from there, and the
    // stretches are then ingested oldest first, each re-walked (it is at most maxPages long) when its turn comes.
    const oldest = signatures[0]!;
    await saveFrontiers(db, name, [...frontiers, oldest.signature], [...frontierSlots, oldest.slot]);
    return {
      signatures: signatures.length,
      committed: 0,
      batches: 0,
      complete: false,
      phases,
      pendingSegments: frontiers.length + 1,
    };
  }
  const figures: IngestFigures = {
    signatures: signatures.length,
    committed: 0,
    batches: 0,
    complete: true,
    phases,
    pendingSegments: frontiers.length,
    gaps: 0,
    backfilled: 0,
  };
  const size = opts.batchSize ?? DEFAULT_BATCH;
  const batches = chunks(signatures, size);
  const archive = archiveRpc(env, services);
  // Reading the chain for batch N+1 (getTransaction batch, decode, vault re-read) runs while batch N commits and
  // publishes; the publish of batch N runs while batch N+1 commits. Each owner still gets batch N's call before
  // batch N+1's (the next publish starts only after the previous one ended), and the pass ends only after its
  // last publish, so the lease keeps covering it.
  const prepare = (chunk: SignatureInfo[]) => timed(phases, "read", () => readBatch(services, archive, chunk));
  let next: Promise<ReadBatch> | null = batches.length > 0 ? prepare(batches[0]!) : null;
  let publishing: Promise<unknown> = Promise.resolve();
  let renewedAt = Date.now();
  try {
    for (let i = 0; next; i++) {
      const batch = await timed(phases, "waitRead", () => next!);
      next = null;
      if (batch.missing < 0 && i + 1 < batches.length) {
        next = prepare(batches[i + 1]!);
        // Awaited on the next turn; until then a failure must not surface as an unhandled rejection.
        next.catch(() => {});
      }
      if (batch.upTo > 0) {
        opts.signal?.throwIfAborted();
        // Recorded before the commit that skips them: a pass dying in between leaves them recorded, not lost.
        figures.gaps = (figures.gaps ?? 0) + (await recordGaps(services, name, batch.gaps));
        // The cursor moves past everything handled, gaps included: the newest signature before the first missing.
        const last = batches[i]![batch.upTo - 1]!;
        const cursorAt = { name, signature: last.signature, slot: BigInt(last.slot) };
        const { byOwner } = await applyBatch(env, services, batch, "poll", cursorAt, phases);
        await timed(phases, "waitPublish", () => publishing);
        publishing = timed(phases, "publish", () => publishAll(env, services, byOwner));
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
          signature: batches[i]![batch.missing]!.signature,
        });
        break;
      }
    }
  } finally {
    await publishing;
  }
  if (archive) figures.backfilled = await backfillGaps(env, services, archive, name);
  if (figures.complete && frontiers.length > 0) {
    // This stretch is in: the next walk ingests the one above it (and, once none is left, from the newest).
    await saveFrontiers(db, name, frontiers.slice(0, -1), frontierSlots.slice(0, -1));
    figures.pendingSegments = frontiers.length - 1;
  }
  if (figures.complete && frontiers.length === 0 && walk.headSlot !== undefined) {
    // Everything up to the head the walk started from is committed: that is how far ingestion has looked.
    await saveLookedAt(db, name, walk.headSlot);
    figures.lookedAtSlot = walk.headSlot;
  }
  return figures;
}

/** The `cursors` row holding the slot up to which a stream's ingestion has looked (lag is measured from it). */
export function lookedAtName(cursor: string): string {
  return `${cursor}:looked`;
}

/** Moves the looked-at slot forward (never back: a slower concurrent pass may finish later with an older head). */
async function saveLookedAt(db: Database, cursor: string, slot: number): Promise<void> {
  await db
    .insert(cursors)
    .values({ name: lookedAtName(cursor), slot: BigInt(slot) })
    .onConflictDoUpdate({
      target: cursors.name,
      set: { slot: BigInt(slot), updatedAt: sql`now()` },
      setWhere: sql`${cursors.slot} is null or ${cursors.slot} <= ${BigInt(slot)}`,
    });
}

/** Stores the frontier stack in the cursor row (created without a position on a first start). */
async function saveFrontiers(db: Database, name: string, frontiers: string[], slots: number[]): Promise<void> {
  const state: StreamState = frontiers.length > 0 ? { frontiers, frontierSlots: slots } : { frontiers };
  await db
    .insert(cursors)
    .values({ name, state })
    .onConflictDoUpdate({ target: cursors.name, set: { state, updatedAt: sql`now()` } });
}

/**
 * A batch read from the chain and decoded, with its vaults re-read: `missing` is the first index not available yet
 * (or -1), `upTo` how many signatures from the start were handled (committed or skipped as gaps).
 */
interface ReadBatch {
  decoded: DecodedTx[];
  states: Map<string, VaultState>;
  missing: number;
  upTo: number;
  gaps: SignatureInfo[];
}

/** Fetches a chunk of signatures; decodes and re-reads the vaults of the transactions before the first missing one. */
async function readBatch(services: Services, archive: SolanaRpc | null, chunk: SignatureInfo[]): Promise<ReadBatch> {
  const fetched = await fetchTransactions(services.rpc, chunk);
  const { ready, missing, gaps } = await sortFetched(services, archive, chunk, fetched);
  const upTo = missing < 0 ? chunk.length : missing;
  return { ...(await decodeAndRead(services, ready)), missing, upTo, gaps };
}

/** Gap backfills per pass: one archive batch, so a long list of gaps is worked off over passes. */
const BACKFILL_PER_PASS = 100;

/**
 * Fills open gaps of this stream from the archive (committed like any transaction, source `archive`, the cursor
 * untouched); the stream's gap alert is resolved once none is left. Returns how many were filled.
 */
async function backfillGaps(env: Bindings, services: Services, archive: SolanaRpc, stream: string): Promise<number> {
  const open = await openGaps(services, stream, BACKFILL_PER_PASS);
  if (open.length === 0) return 0;
  const found = (await fetchTransactions(archive, open)).filter(isChainTx);
  if (found.length > 0) await processBatch(env, services, found, "archive");
  await closeGaps(
    services,
    stream,
    found.map((t) => t.signature),
  );
  return found.length;
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
export async function ingestSignatures(
  env: Bindings,
  services: Services,
  signatures: string[],
  source: "webhook" | "push" = "webhook",
): Promise<number> {
  // Wait briefly for a running pass; if it is still busy, the poll will pick these signatures up anyway.
  for (let attempt = 0; attempt < 25; attempt++) {
    const committed = await withLease(services, () => ingestSignaturesLeased(env, services, signatures, source));
    if (committed !== null) return committed;
    await new Promise((r) => setTimeout(r, 200));
  }
  services.log.info("ingestion busy; webhook signatures left to the poll", { count: signatures.length });
  return 0;
}

async function ingestSignaturesLeased(
  env: Bindings,
  services: Services,
  signatures: string[],
  source: "webhook" | "push",
): Promise<number> {
  let committed = 0;
  for (let i = 0; i < signatures.length; i += 100) {
    const fetched = await fetchTransactions(services.rpc, signatures.slice(i, i + 100));
    const ready = fetched.filter(isChainTx).sort((a, b) => (a.slot < b.slot ? -1 : 1));
    if (ready.length === 0) continue;
    const result = await processBatch(env, services, ready, source);
    committed += result.committed.length;
  }
  return committed;
}

/** Decodes, reads the touched vaults, commits, then announces what this commit (and only it) changed. */
async function processBatch(
  env: Bindings,
  services: Services,
  txs: ChainTx[],
  source: "poll" | "webhook" | "push" | "archive",
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
  source: "poll" | "webhook" | "push" | "archive",
  cursor?: { name: string; signature: string; slot: bigint },
  phases?: Phases,
): Promise<{ result: BatchResult; byOwner: Map<string, OwnerEvent[]> }> {
  const { decoded, states } = batch;
  const result = await timed(phases, "commit", () =>
    commitBatch(services.db().db, { decoded, states, source, cursor, phases }),
  );
  const byOwner = batchEvents(result);
  await timed(phases, "watch", () =>
    watchBatch(env, services, result, byOwner).catch((err) =>
      services.log.warn("watchdog failed on a batch", { error: err }),
    ),
  );
  return { result, byOwner };
}
