/** One database transaction per batch: chain_transactions (dedup), history rows, request matching, cache, cursor. */
import { inArray, sql } from "drizzle-orm";
import { programErrorFromTransaction, type TransactionProgramError } from "../chain/program/index.ts";
import type { Database } from "../db/client.ts";
import { chainTransactions, cursors, transactions, vaults } from "../db/schema.ts";
import { chunks } from "../lib/chunks.ts";
import type { DecodedTx, HistoryRow } from "./decode.ts";
import { failedOwners, historyRows } from "./decode.ts";
import { type Phases, timed } from "./phases.ts";
import type { VaultState } from "./vault-state.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
type RequestRow = typeof transactions.$inferSelect;

/** A history row as stored: its id, and whether it is a request the API built. */
export interface StoredRow extends HistoryRow {
  id: string;
  requestId: string | null;
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
  source: "poll" | "webhook" | "archive";
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
 * per batch, not per transaction (claim, request lookup, one multi-row history insert, vault upsert, cursor), plus
 * one UPDATE per matched request: the round trips, not the rows, were the cost.
 */
export async function commitBatch(db: Database, input: BatchInput): Promise<BatchResult> {
  const { phases } = input;
  return db.transaction(async (tx) => {
    const began = Date.now();
    const fresh = await timed(phases, "commit.claim", () => claimSignatures(tx, input));
    const ownerOf = (vault: string) => input.states.get(vault)?.owner ?? null;
    const requests = await timed(phases, "commit.requests", () =>
      requestsByHash(
        tx,
        fresh.map((d) => d.tx.messageHash),
      ),
    );
    const byHash = new Map<string, RequestRow[]>();
    for (const r of requests) {
      if (!r.messageHash) continue;
      byHash.set(r.messageHash, [...(byHash.get(r.messageHash) ?? []), r]);
    }
    const committed: CommittedTx[] = [];
    const toInsert: PendingRow[] = [];
    for (const d of fresh) {
      const matching = byHash.get(d.tx.messageHash) ?? [];
      if (d.tx.err) {
        committed.push(await storeFailure(tx, d, matching, ownerOf));
        continue;
      }
      const c: CommittedTx = { decoded: d, rows: [], failure: null };
      committed.push(c);
      for (const row of await matchRequests(tx, c, historyRows(d, ownerOf), matching)) toInsert.push({ c, row });
    }
    await timed(phases, "commit.history", () => insertRows(tx, toInsert));
    for (const c of committed) c.rows.sort((a, b) => a.eventIndex - b.eventIndex);
    const changed = await timed(phases, "commit.vaults", () => upsertVaults(tx, [...input.states.values()]));
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

async function requestsByHash(tx: Tx, hashes: string[]): Promise<RequestRow[]> {
  if (hashes.length === 0) return [];
  return tx
    .select()
    .from(transactions)
    .where(inArray(transactions.messageHash, [...new Set(hashes)]));
}

/** A history row waiting for the batch's multi-row insert, with the transaction it belongs to. */
interface PendingRow {
  c: CommittedTx;
  row: HistoryRow;
}

/**
 * Matches a successful transaction's rows to the requests the API built for its message. A request becomes the
 * row of the matching event (same type), so the history holds one row per event, not a request and an event row.
 * Returns the rows no request claimed (to be inserted).
 */
async function matchRequests(
  tx: Tx,
  c: CommittedTx,
  rows: HistoryRow[],
  requests: RequestRow[],
): Promise<HistoryRow[]> {
  const d = c.decoded;
  const unused = [...requests];
  const toInsert: HistoryRow[] = [];
  for (const row of rows) {
    const at = unused.findIndex((r) => r.transactionType === row.type && r.vaultOwner === row.owner);
    if (at < 0) {
      toInsert.push(row);
      continue;
    }
    const [request] = unused.splice(at, 1);
    await confirmRequest(tx, request!.id, d, row);
    c.rows.push({ ...row, id: request!.id, requestId: request!.id });
  }
  // A request whose message emitted no matching event (e.g. an admin instruction) is still confirmed.
  for (const request of unused) await confirmRequest(tx, request.id, d, null);
  return toInsert;
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
      if (id) p.c.rows.push({ ...p.row, id, requestId: null });
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
    status: "confirmed",
    slot: d.tx.slot,
    blockTime: d.tx.blockTime,
    counterparty: r.counterparty,
    reason: r.reason,
    details: r.details,
  };
}

async function confirmRequest(tx: Tx, id: string, d: DecodedTx, row: HistoryRow | null): Promise<void> {
  await tx
    .update(transactions)
    .set({
      signature: d.tx.signature,
      slot: d.tx.slot,
      blockTime: d.tx.blockTime,
      ...(row
        ? { eventIndex: row.eventIndex, amount: row.amount, counterparty: row.counterparty, reason: row.reason }
        : {}),
      status: sql`case when ${transactions.status} in ('pending', 'submitted', 'expired') then 'confirmed' else ${transactions.status} end`,
      updatedAt: new Date(),
    })
    .where(sql`${transactions.id} = ${id}`);
}

/** A failed transaction: the matching requests become `failed` with the program error; no event is applied. */
async function storeFailure(
  tx: Tx,
  d: DecodedTx,
  requests: RequestRow[],
  ownerOf: (vault: string) => string | null,
): Promise<CommittedTx> {
  const error = programErrorFromTransaction(d.tx.err, d.tx.logs) ?? {
    instructionIndex: -1,
    name: "TransactionError",
    message: JSON.stringify(d.tx.err),
  };
  const requestIds = new Map<string, string>();
  for (const r of requests) {
    await tx
      .update(transactions)
      .set({
        signature: d.tx.signature,
        slot: d.tx.slot,
        blockTime: d.tx.blockTime,
        status: sql`case when ${transactions.status} in ('pending', 'submitted', 'confirmed', 'expired') then 'failed' else ${transactions.status} end`,
        errorCode: error.code ?? null,
        errorName: error.name,
        errorMessage: error.message,
        updatedAt: new Date(),
      })
      .where(sql`${transactions.id} = ${r.id}`);
    requestIds.set(r.vaultOwner, r.id);
  }
  const owners = new Set([...failedOwners(d, ownerOf), ...requestIds.keys()]);
  return { decoded: d, rows: [], failure: { ...error, owners: [...owners], requestIds } };
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
