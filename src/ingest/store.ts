/** One database transaction per batch: chain_transactions (dedup), history rows, request matching, cache, cursor. */
import { inArray, sql } from "drizzle-orm";
import { programErrorFromTransaction, type TransactionProgramError } from "../chain/program/index.ts";
import type { Database } from "../db/client.ts";
import { balanceSnapshots, chainTransactions, cursors, transactions, vaults } from "../db/schema.ts";
import { chunks } from "../lib/chunks.ts";
import { hashIntentText } from "../vault/intent.ts";
import type { VaultState } from "../vault/vault-state.ts";
import { type BalancePoint, balancePoints, type PriorBalances } from "./balance-points.ts";
import type { DecodedTx, HistoryRow } from "./decode.ts";
import { failedOwners, historyRows } from "./decode.ts";
import { type Phases, timed } from "./phases.ts";
import {
  bindFailed,
  bindLanded,
  candidateRequests,
  type FailedBind,
  type LandedBind,
  type RequestRow,
  requestOf,
} from "./request-match.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** A history row as stored: its id, and whether it is a request the API built. */
export interface StoredRow extends HistoryRow {
  id: string;
  requestId: string | null;
  /** The position label of the request this row carries out (privileged lock/unlock builds); null otherwise. */
  positionId: string | null;
}

/** What one newly committed transaction changed (what the owners are told about). */
export interface CommittedTx {
  decoded: DecodedTx;
  rows: StoredRow[];
  failure: (TransactionProgramError & { owners: string[]; requestIds: Map<string, string> }) | null;
}

export interface BatchInput {
  decoded: DecodedTx[];
  states: Map<string, VaultState>;
  source: "poll" | "webhook" | "push" | "archive";
  /** Moves this cursor to the batch's newest signature, in the same database transaction. */
  cursor?: { name: string; signature: string; slot: bigint };
  /** Adds each step's milliseconds here (`commit.<step>`), for the benchmark's breakdown. */
  phases?: Phases;
}

export interface BatchResult {
  committed: CommittedTx[];
  /** Vault rows that changed (the state was newer than the cache's). */
  vaults: VaultState[];
}

/** Rows per multi-row INSERT: well under PostgreSQL's 65,535 bind parameters at ~11 columns a row. */
const ROWS_PER_INSERT = 1_000;

/**
 * Commits a batch atomically. A transaction whose signature is already in chain_transactions (another pass or the
 * webhook got there first) is skipped entirely, so each event is applied and announced once. The statements are
 * per batch, not per transaction (claim, request lookup, one UPDATE for all matched requests, one multi-row history
 * insert, vault upsert, balance points, cursor): the round trips, not the rows, were the cost.
 */
export async function commitBatch(db: Database, input: BatchInput): Promise<BatchResult> {
  const { phases } = input;
  const intents = new Map<string, string | null>();
  for (const d of input.decoded) intents.set(d.tx.signature, await hashIntentText(d.intent));
  return db.transaction(async (tx) => {
    const began = Date.now();
    const fresh = await timed(phases, "commit.claim", () => claimSignatures(tx, input));
    const ownerOf = (vault: string) => input.states.get(vault)?.owner ?? null;
    const requests = await timed(phases, "commit.requests", () => candidateRequests(tx, fresh, intents));
    const taken = new Set<string>();
    const committed: CommittedTx[] = [];
    const toInsert: PendingRow[] = [];
    const landed: LandedBind[] = [];
    const failed: FailedBind[] = [];
    for (const d of fresh) {
      const request = requestOf(d, intents.get(d.tx.signature) ?? null, requests, taken);
      if (d.tx.err) {
        committed.push(storeFailure(d, request, ownerOf, failed));
        continue;
      }
      const c: CommittedTx = { decoded: d, rows: [], failure: null };
      committed.push(c);
      for (const row of matchRequest(c, historyRows(d, ownerOf), request, landed)) toInsert.push({ c, row });
    }
    // The matched requests: one statement per kind for the whole batch.
    await timed(phases, "commit.bind", async () => {
      await bindLanded(tx, landed);
      await bindFailed(tx, failed);
    });
    await timed(phases, "commit.history", () => insertRows(tx, toInsert));
    for (const c of committed) c.rows.sort((a, b) => a.eventIndex - b.eventIndex);
    const prior = await timed(phases, "commit.prior", () => priorBalances(tx, [...input.states.values()]));
    const changed = await timed(phases, "commit.vaults", () => upsertVaults(tx, [...input.states.values()]));
    const points = balancePoints(fresh, input.states, prior, new Set(changed.map((v) => v.address)));
    await timed(phases, "commit.points", () => insertPoints(tx, points));
    const { cursor } = input;
    if (cursor) await timed(phases, "commit.cursor", () => moveCursor(tx, cursor));
    if (phases) phases["commit.body"] = (phases["commit.body"] ?? 0) + Date.now() - began;
    return { committed, vaults: changed };
  });
}

/** Inserts chain_transactions rows; returns the transactions that were not there yet, in batch order. */
async function claimSignatures(tx: Tx, input: BatchInput): Promise<DecodedTx[]> {
  const claimed = new Set<string>();
  for (const part of chunks(input.decoded, ROWS_PER_INSERT)) {
    const inserted = await tx
      .insert(chainTransactions)
      .values(
        part.map((d) => ({
          signature: d.tx.signature,
          slot: d.tx.slot,
          blockTime: d.tx.blockTime,
          commitment: d.tx.err ? "failed" : "confirmed",
          err: d.tx.err ?? null,
          messageHash: d.tx.messageHash,
          eventCount: d.events.length,
          source: input.source,
        })),
      )
      .onConflictDoNothing({ target: chainTransactions.signature })
      .returning({ signature: chainTransactions.signature });
    for (const r of inserted) claimed.add(r.signature);
  }
  return input.decoded.filter((d) => claimed.has(d.tx.signature));
}

/** A history row waiting for the batch's multi-row insert, with the transaction it belongs to. */
interface PendingRow {
  c: CommittedTx;
  row: HistoryRow;
}

/**
 * Makes the request (if any) the row of the matching event (same type and owner), so the history holds one row per
 * event, not a request and an event row; the binding itself is queued for the batch's one UPDATE. Returns the rows
 * no request claimed (to be inserted).
 */
function matchRequest(
  c: CommittedTx,
  rows: HistoryRow[],
  request: RequestRow | null,
  binds: LandedBind[],
): HistoryRow[] {
  if (!request) return rows;
  const at = rows.findIndex((r) => r.type === request.transactionType && r.owner === request.vaultOwner);
  if (at < 0) {
    // A request whose transaction emitted no matching event (e.g. an admin instruction) is still confirmed.
    binds.push({ id: request.id, d: c.decoded, row: null });
    return rows;
  }
  const [row] = rows.splice(at, 1);
  binds.push({ id: request.id, d: c.decoded, row: row! });
  c.rows.push({ ...row!, id: request.id, requestId: request.id, positionId: request.positionId ?? null });
  return rows;
}

/** Inserts the batch's unclaimed history rows in multi-row statements and records each stored row on its transaction. */
async function insertRows(tx: Tx, pending: PendingRow[]): Promise<void> {
  const key = (signature: string | null, type: string, eventIndex: number | null) =>
    `${signature}:${eventIndex}:${type}`;
  for (const part of chunks(pending, ROWS_PER_INSERT)) {
    const inserted = await tx
      .insert(transactions)
      .values(part.map((p) => rowValues(p.c.decoded, p.row)))
      .onConflictDoNothing()
      .returning({
        id: transactions.id,
        signature: transactions.signature,
        type: transactions.transactionType,
        eventIndex: transactions.eventIndex,
      });
    const ids = new Map(inserted.map((i) => [key(i.signature, i.type, i.eventIndex), i.id]));
    for (const p of part) {
      const id = ids.get(key(p.c.decoded.tx.signature, p.row.type, p.row.eventIndex));
      if (id) p.c.rows.push({ ...p.row, id, requestId: null, positionId: null });
    }
  }
}

function rowValues(d: DecodedTx, r: HistoryRow) {
  return {
    vaultOwner: r.owner,
    transactionType: r.type,
    amount: r.amount,
    signature: d.tx.signature,
    eventIndex: r.eventIndex,
    status: "confirmed" as const,
    slot: d.tx.slot,
    blockTime: d.tx.blockTime,
    counterparty: r.counterparty,
    reason: r.reason,
    details: r.details,
  };
}

/** A failed transaction: its request becomes `failed` with the program error (queued); no event is applied. */
function storeFailure(
  d: DecodedTx,
  request: RequestRow | null,
  ownerOf: (vault: string) => string | null,
  binds: FailedBind[],
): CommittedTx {
  const error = programErrorFromTransaction(d.tx.err, d.tx.logs) ?? {
    instructionIndex: -1,
    name: "TransactionError",
    message: JSON.stringify(d.tx.err),
  };
  const requestIds = new Map<string, string>();
  if (request) {
    binds.push({ id: request.id, d, error });
    requestIds.set(request.vaultOwner, request.id);
  }
  const owners = new Set([...failedOwners(d, ownerOf), ...requestIds.keys()]);
  return { decoded: d, rows: [], failure: { ...error, owners: [...owners], requestIds } };
}

/** The cached balances of the batch's vaults before it, by vault address (one statement). */
async function priorBalances(tx: Tx, states: VaultState[]): Promise<Map<string, PriorBalances>> {
  const prior = new Map<string, PriorBalances>();
  for (const part of chunks(states, ROWS_PER_INSERT)) {
    const rows = await tx
      .select({
        address: vaults.vaultAddress,
        total: vaults.totalBalance,
        locked: vaults.lockedBalance,
        available: vaults.availableBalance,
        slot: vaults.slot,
      })
      .from(vaults)
      .where(
        inArray(
          vaults.owner,
          part.map((s) => s.owner),
        ),
      );
    for (const r of rows)
      prior.set(r.address, { total: r.total, locked: r.locked, available: r.available, slot: r.slot });
  }
  return prior;
}

/**
 * Writes the batch's balance steps as points of the owners' balance histories (multi-row inserts). `taken_at` is
 * when the backend recorded the step — the same clock as the snapshot job's, so the two never interleave out of
 * order — and the insert order (the id) with `slot` keeps a batch's steps in chain order.
 */
async function insertPoints(tx: Tx, points: BalancePoint[]): Promise<void> {
  for (const part of chunks(points, ROWS_PER_INSERT)) {
    await tx.insert(balanceSnapshots).values(
      part.map((p) => ({
        owner: p.owner,
        totalBalance: p.total,
        lockedBalance: p.locked,
        availableBalance: p.available,
        slot: p.slot,
        takenAt: sql`now()`,
      })),
    );
  }
}

/** Upserts the vault cache; a row is only replaced by a state read at the same or a newer slot. */
async function upsertVaults(tx: Tx, states: VaultState[]): Promise<VaultState[]> {
  const owners = new Set<string>();
  for (const part of chunks(states, ROWS_PER_INSERT)) {
    const changed = await tx
      .insert(vaults)
      .values(
        part.map((s) => ({
          owner: s.owner,
          vaultAddress: s.address,
          tokenAccount: s.tokenAccount,
          totalBalance: s.totalBalance,
          lockedBalance: s.lockedBalance,
          availableBalance: s.availableBalance,
          totalDeposited: s.totalDeposited,
          totalWithdrawn: s.totalWithdrawn,
          chainCreatedAt: s.createdAt,
          slot: s.slot,
          mint: s.mint,
          tokenAmount: s.tokenAmount,
          tokenFrozen: s.tokenFrozen,
          tokenSlot: s.tokenSlot,
        })),
      )
      .onConflictDoUpdate({
        target: vaults.owner,
        set: {
          tokenAccount: sql`excluded.token_account`,
          totalBalance: sql`excluded.total_balance`,
          lockedBalance: sql`excluded.locked_balance`,
          availableBalance: sql`excluded.available_balance`,
          totalDeposited: sql`excluded.total_deposited`,
          totalWithdrawn: sql`excluded.total_withdrawn`,
          chainCreatedAt: sql`excluded.chain_created_at`,
          slot: sql`excluded.slot`,
          mint: sql`excluded.mint`,
          tokenAmount: sql`excluded.token_amount`,
          tokenFrozen: sql`excluded.token_frozen`,
          tokenSlot: sql`excluded.token_slot`,
          updatedAt: sql`now()`,
        },
        setWhere: sql`${vaults.slot} <= excluded.slot`,
      })
      .returning({ owner: vaults.owner });
    for (const c of changed) owners.add(c.owner);
  }
  return states.filter((s) => owners.has(s.owner));
}

/** Moves the cursor forward (by slot); a slower concurrent pass never moves it back past a newer position. */
async function moveCursor(tx: Tx, c: { name: string; signature: string; slot: bigint }): Promise<void> {
  await tx
    .insert(cursors)
    .values({ name: c.name, signature: c.signature, slot: c.slot })
    .onConflictDoUpdate({
      target: cursors.name,
      set: { signature: c.signature, slot: c.slot, updatedAt: sql`now()` },
      setWhere: sql`${cursors.slot} is null or ${cursors.slot} <= ${c.slot}`,
    });
}
