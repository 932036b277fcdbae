/** Reading program transactions from the RPC: signature pages back to the cursor, and transactions in batches. */
import { PublicKey } from "@solana/web3.js";
import bs58 from "bs58";
import { fromBase64 } from "./accounts.ts";
import { messageHash } from "./message-hash.ts";
import type { RpcError, RpcRequest, SolanaRpc } from "./rpc.ts";

/** One entry of getSignaturesForAddress. */
export interface SignatureInfo {
  signature: string;
  slot: number;
  err: unknown;
  blockTime: number | null;
}

/** One instruction as executed: top-level or invoked by another program (CPI). */
export interface ExecutedInstruction {
  programId: PublicKey;
  accounts: PublicKey[];
  data: Uint8Array;
  /** Index of the top-level instruction it belongs to. */
  topLevelIndex: number;
  inner: boolean;
}

/** A transaction as the ingestion needs it. */
export interface ChainTx {
  signature: string;
  slot: bigint;
  blockTime: Date | null;
  err: unknown;
  logs: string[];
  /** Hex sha256 of the message bytes: matches `transactions.message_hash` of a request the API built. */
  messageHash: string;
  /** The message's recent blockhash (base58): request matching prefers a request built with it (vault/intent.ts). */
  recentBlockhash: string;
  instructions: ExecutedInstruction[];
}

/** getSignaturesForAddress returns at most 1,000 signatures per call. */
const PAGE_LIMIT = 1000;

export interface WalkOptions {
  /** Start below this signature (exclusive); null starts at the newest. */
  before: string | null;
  /** Stop at this signature (exclusive): the ingestion cursor; null walks to the start of history. */
  until: string | null;
  /** Signatures per page (≤ 1,000). */
  pageSize?: number;
  /** Pages one walk may read; a longer stretch is left for the next walk (see `metUntil`). */
  maxPages?: number;
  /** Slot of `until` (the cursor's): a node behind it would not know the cursor and would list older history. */
  minContextSlot?: number;
  /**
   * Also asks the confirmed head slot, in the same JSON-RPC batch as the first page and before it: the slot up to
   * which this walk has looked (what ingestion lag is measured from). One batch item, no round trip.
   */
  withHead?: boolean;
}

export interface Walk {
  /** Oldest first. */
  signatures: SignatureInfo[];
  /** True when a page came back short: the walk reached `until` (or the start of history), so nothing is missing. */
  metUntil: boolean;
  /** The confirmed head when the first page was listed (with `withHead`; undefined if the node did not answer it). */
  headSlot?: number;
}

/**
 * Signatures of `address` between `until` and `before`, walked back page by page until a page comes back short
 * (the walk met `until`) or `maxPages` pages were read. Nothing inside the walked stretch is skipped.
 */
export async function walkSignatures(rpc: SolanaRpc, address: PublicKey, opts: WalkOptions): Promise<Walk> {
  const pageSize = opts.pageSize ?? PAGE_LIMIT;
  const maxPages = opts.maxPages ?? Number.POSITIVE_INFINITY;
  const out: SignatureInfo[] = [];
  let before = opts.before ?? undefined;
  // Every page is asked of a node at least as far as the walk has already seen: a node behind the first page's
  // newest slot would not know `before` (and answer an empty page, which reads as "met the cursor": a hole).
  let minContextSlot = opts.minContextSlot ?? 0;
  const request = (limit: number) => ({
    method: "getSignaturesForAddress",
    params: [
      address.toBase58(),
      {
        limit,
        commitment: "confirmed",
        ...(before ? { before } : {}),
        ...(opts.until ? { until: opts.until } : {}),
        ...(minContextSlot > 0 ? { minContextSlot } : {}),
      },
    ],
  });
  const page = (limit: number) => {
    const { method, params } = request(limit);
    return rpc.call<SignatureInfo[]>(method, params);
  };
  let headSlot: number | undefined;
  const firstPage = async (limit: number) => {
    if (!opts.withHead) return page(limit);
    const [head, listed] = await rpc.batch([
      { method: "getSlot", params: [{ commitment: "confirmed" }] },
      request(limit),
    ]);
    if (!listed!.ok) throw listed!.error;
    if (head!.ok && typeof head!.value === "number") headSlot = head!.value;
    return listed!.value as SignatureInfo[];
  };
  for (let pages = 0; pages < maxPages; pages++) {
    const listed = await (pages === 0 ? firstPage(pageSize) : page(pageSize));
    out.push(...listed);
    if (listed.length < pageSize) return { signatures: out.reverse(), metUntil: true, headSlot };
    before = listed[listed.length - 1]!.signature;
    minContextSlot = Math.max(minContextSlot, listed[0]!.slot);
  }
  // Every page came back full: the stretch may end exactly here. One signature more tells (without it, a stretch of
  // exactly maxPages × pageSize would never count as met, and would be walked again and again).
  const probe = await page(1);
  return { signatures: out.reverse(), metUntil: probe.length === 0, headSlot };
}

export interface RpcTransaction {
  slot: number;
  blockTime: number | null;
  transaction: [string, string];
  meta: {
    err: unknown;
    logMessages: string[] | null;
    innerInstructions?: Array<{
      index: number;
      instructions: Array<{ programIdIndex: number; accounts: number[]; data: string }>;
    }> | null;
    loadedAddresses?: { writable: string[]; readonly: string[] } | null;
  } | null;
}

/** What the node answered for one signature: the transaction, null (it does not have it), or an error. */
export type Fetched = ChainTx | null | RpcError;

/**
 * Fetches transactions at `confirmed` (a node defaults to finalized otherwise) in JSON-RPC batches (the client
 * splits them by RPC_BATCH_SIZE and retries transient answers). A signature given with its slot is asked with
 * `minContextSlot`, so a node that has not reached that slot says so (-32016, retried) instead of answering null.
 * One entry per signature, in order.
 */
export async function fetchTransactions(
  rpc: SolanaRpc,
  signatures: (string | { signature: string; slot: number })[],
): Promise<Fetched[]> {
  const calls: RpcRequest[] = signatures.map((s) => {
    const config = { encoding: "base64", commitment: "confirmed", maxSupportedTransactionVersion: 0 };
    return typeof s === "string"
      ? { method: "getTransaction", params: [s, config] }
      : { method: "getTransaction", params: [s.signature, { ...config, minContextSlot: s.slot }] };
  });
  const replies = await rpc.batch(calls, { timeoutMs: 30_000 });
  return Promise.all(
    replies.map((reply, i) => {
      if (!reply.ok) return reply.error;
      if (!reply.value) return null;
      const s = signatures[i]!;
      return toChainTx(typeof s === "string" ? s : s.signature, reply.value as RpcTransaction);
    }),
  );
}

/** True for a fetched transaction (neither null nor an error). */
export function isChainTx(f: Fetched): f is ChainTx {
  return f !== null && "instructions" in f;
}

/** Parses the wire bytes (base64 encoding) and the meta into a ChainTx. */
export async function toChainTx(signature: string, raw: RpcTransaction): Promise<ChainTx> {
  const wire = fromBase64(raw.transaction[0]);
  const { message, keys, compiled, recentBlockhash } = parseWire(wire);
  const loaded = raw.meta?.loadedAddresses;
  const allKeys = [...keys, ...(loaded?.writable ?? []).map(pk), ...(loaded?.readonly ?? []).map(pk)];
  const instructions: ExecutedInstruction[] = [];
  const inner = new Map((raw.meta?.innerInstructions ?? []).map((g) => [g.index, g.instructions]));
  compiled.forEach((ix, index) => {
    instructions.push({
      programId: allKeys[ix.programIdIndex]!,
      accounts: ix.accounts.map((a) => allKeys[a]!),
      data: ix.data,
      topLevelIndex: index,
      inner: false,
    });
    for (const ii of inner.get(index) ?? []) {
      instructions.push({
        programId: allKeys[ii.programIdIndex]!,
        accounts: ii.accounts.map((a) => allKeys[a]!),
        data: bs58.decode(ii.data),
        topLevelIndex: index,
        inner: true,
      });
    }
  });
  return {
    signature,
    slot: BigInt(raw.slot),
    blockTime: raw.blockTime === null ? null : new Date(raw.blockTime * 1000),
    err: raw.meta?.err ?? null,
    logs: raw.meta?.logMessages ?? [],
    messageHash: await messageHash(message),
    recentBlockhash,
    instructions,
  };
}

function pk(s: string): PublicKey {
  return new PublicKey(s);
}

interface CompiledIx {
  programIdIndex: number;
  accounts: number[];
  data: Uint8Array;
}

/**
 * Splits a wire transaction (legacy or v0) into its message bytes, static keys and compiled instructions. Kept by
 * measurement rather than web3.js's decoder: 2.0-2.4x faster per transaction on the ingestion path
 * (`npm run bench:wire`, README "Wire parsing"); client-sent transactions go through web3.js (vault/relay.ts).
 */
function parseWire(wire: Uint8Array): {
  message: Uint8Array;
  keys: PublicKey[];
  compiled: CompiledIx[];
  recentBlockhash: string;
} {
  const r = { pos: 0 };
  const sigCount = shortVec(wire, r);
  r.pos += 64 * sigCount;
  const message = wire.subarray(r.pos);
  // A v0 message starts with 0x80 | version; a legacy one with numRequiredSignatures (< 128).
  if ((wire[r.pos]! & 0x80) !== 0) r.pos += 1;
  r.pos += 3; // header
  const keyCount = shortVec(wire, r);
  const keys: PublicKey[] = [];
  for (let i = 0; i < keyCount; i++) {
    keys.push(new PublicKey(wire.subarray(r.pos, r.pos + 32)));
    r.pos += 32;
  }
  const recentBlockhash = bs58.encode(wire.subarray(r.pos, r.pos + 32));
  r.pos += 32;
  const ixCount = shortVec(wire, r);
  const compiled: CompiledIx[] = [];
  for (let i = 0; i < ixCount; i++) {
    const programIdIndex = wire[r.pos++]!;
    const n = shortVec(wire, r);
    const accounts = Array.from(wire.subarray(r.pos, r.pos + n));
    r.pos += n;
    const len = shortVec(wire, r);
    compiled.push({ programIdIndex, accounts, data: wire.slice(r.pos, r.pos + len) });
    r.pos += len;
  }
  return { message, keys, compiled, recentBlockhash };
}

/** Reads a compact-u16 ("shortvec") length. */
function shortVec(bytes: Uint8Array, r: { pos: number }): number {
  let value = 0;
  for (let shift = 0; shift < 21; shift += 7) {
    const b = bytes[r.pos++]!;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return value;
  }
  throw new Error("malformed shortvec");
}
