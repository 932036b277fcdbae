/** One database transaction per batch: chain_transactions (dedup), history rows, request matching, cache, cursor. */
import { inArray, sql } from "drizzle-orm";
import { programErrorFromTransaction, type TransactionProgramError } from "../chain/program/index.ts";
import type { Database } from "../db/client.ts";
import { chainTransactions, cursors, transactions, vaults } from "../db/schema.ts";
import type { DecodedTx, HistoryRow } from "./decode.ts";
import { failedOwners, historyRows } from "./decode.ts";
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
  source: "poll" | "webhook";
  /** Moves this cursor to the batch's newest signature, in the same database transaction. */
  cursor?: { name: string; signature: string; slot: bigint };
}

export interface BatchResult {
  committed: CommittedTx[];
  /** Vault rows that changed (the state was newer than the cache's). */
  vaults: VaultState[];
}

/**
 * Commits a batch atomically. A transaction whose signature is already in chain_transactions (another pass or the
 * webhook got there first) is skipped entirely, so each event is applied and announced once.
 */
export async function commitBatch(db: Database, input: BatchInput): Promise<BatchResult> {
  return db.transaction(async (tx) => {
    const fresh = await claimSignatures(tx, input);
    const ownerOf = (vault: string) => input.states.get(vault)?.owner ?? null;
    const requests = await requestsByHash(
      tx,
      fresh.map((d) => d.tx.messageHash),
    );
    const committed: CommittedTx[] = [];
    for (const d of fresh) {
      const matching = requests.filter((r) => r.messageHash === d.tx.messageHash);
      if (d.tx.err) committed.push(await storeFailure(tx, d, matching, ownerOf));
      else
        committed.push({ decoded: d, rows: await storeRows(tx, d, historyRows(d, ownerOf), matching), failure: null });
    }
    const changed = await upsertVaults(tx, [...input.states.values()]);
    if (input.cursor) await moveCursor(tx, input.cursor);
    return { committed, vaults: changed };
  });
}

/** Inserts chain_transactions rows; returns the transactions that were not there yet, in batch order. */
async function claimSignatures(tx: Tx, input: BatchInput): Promise<DecodedTx[]> {
  if (input.decoded.length === 0) return [];
  const inserted = await tx
    .insert(chainTransactions)
    .values(
      input.decoded.map((d) => ({
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
  const claimed = new Set(inserted.map((r) => r.signature));
  return input.decoded.filter((d) => claimed.has(d.tx.signature));
}

async function requestsByHash(tx: Tx, hashes: string[]): Promise<RequestRow[]> {
  if (hashes.length === 0) return [];
  return tx
    .select()
    .from(transactions)
    .where(inArray(transactions.messageHash, [...new Set(hashes)]));
}

/**
 * Stores the rows of a successful transaction. A request the API built for this message becomes the row of the
 * matching event (same type), so the history holds one row per event, not a request and an event row.
 */
async function storeRows(tx: Tx, d: DecodedTx, rows: HistoryRow[], requests: RequestRow[]): Promise<StoredRow[]> {
  const stored: StoredRow[] = [];
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
    stored.push({ ...row, id: request!.id, requestId: request!.id });
  }
  // A request whose message emitted no matching event (e.g. an admin instruction) is still confirmed.
  for (const request of unused) await confirmRequest(tx, request.id, d, null);
  if (toInsert.length > 0) {
    const inserted = await tx
      .insert(transactions)
      .values(toInsert.map((r) => rowValues(d, r)))
      .onConflictDoNothing()
      .returning({ id: transactions.id, type: transactions.transactionType, eventIndex: transactions.eventIndex });
    for (const r of toInsert) {
      const hit = inserted.find((i) => i.type === r.type && i.eventIndex === r.eventIndex);
      if (hit) stored.push({ ...r, id: hit.id, requestId: null });
    }
  }
  return stored.sort((a, b) => a.eventIndex - b.eventIndex);
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
  if (states.length === 0) return [];
  const changed = await tx
    .insert(vaults)
    .values(
      states.map((s) => ({
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
        updatedAt: sql`now()`,
      },
      setWhere: sql`${vaults.slot} <= excluded.slot`,
    })
    .returning({ owner: vaults.owner });
  const owners = new Set(changed.map((c) => c.owner));
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
