import { PublicKey } from "@solana/web3.js";
import bs58 from "bs58";
import { fromBase64, type RawAccount, type RpcAccount, toRaw } from "../chain/accounts.ts";
import { COLLATERAL_VAULT_SIZE } from "../chain/program/index.ts";
import type { SolanaRpc } from "../chain/rpc.ts";
import { chunks } from "../lib/chunks.ts";

/** base58 of the CollateralVault discriminator (vault-program.md §2.1). */
export const VAULT_DISCRIMINATOR_B58 = "4JW1hBZa91A";

/** One vault as the scan sees it: the fields after the discriminator up to total_deposited. */
export interface ScannedVault {
  address: string;
  owner: string;
  tokenAccount: string;
  totalBalance: bigint;
  lockedBalance: bigint;
  availableBalance: bigint;
  totalDeposited: bigint;
}

interface ProgramAccountsReply {
  context: { slot: number };
  value: { pubkey: string; account: { data: [string, string] } }[];
}

/**
 * Every CollateralVault of the program at one slot (getProgramAccounts with the size and discriminator filters),
 * reading only abs bytes 8..104 (owner, token account, balances, total deposited) to keep the answer small.
 */
export async function scanVaults(
  rpc: SolanaRpc,
  programId: PublicKey,
  opts: { minContextSlot?: number } = {},
): Promise<{ slot: number; vaults: ScannedVault[] }> {
  const reply = await rpc.call<ProgramAccountsReply>(
    "getProgramAccounts",
    [
      programId.toBase58(),
      {
        encoding: "base64",
        commitment: "confirmed",
        withContext: true,
        dataSlice: { offset: 8, length: 96 },
        filters: [{ dataSize: COLLATERAL_VAULT_SIZE }, { memcmp: { offset: 0, bytes: VAULT_DISCRIMINATOR_B58 } }],
        ...(opts.minContextSlot !== undefined ? { minContextSlot: opts.minContextSlot } : {}),
      },
    ],
    { timeoutMs: 30_000 },
  );
  const vaults = reply.value.map(({ pubkey, account }) => {
    const bytes = fromBase64(account.data[0]);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      address: pubkey,
      owner: new PublicKey(bytes.subarray(0, 32)).toBase58(),
      tokenAccount: new PublicKey(bytes.subarray(32, 64)).toBase58(),
      totalBalance: view.getBigUint64(64, true),
      lockedBalance: view.getBigUint64(72, true),
      availableBalance: view.getBigUint64(80, true),
      totalDeposited: view.getBigUint64(88, true),
    };
  });
  return { slot: reply.context.slot, vaults };
}

/** Byte-wise order of base58 strings, the same as Postgres `COLLATE "C"`. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** getMultipleAccounts calls sent in one HTTP request (JSON-RPC batch): one subrequest per 1,000 accounts. */
const CALLS_PER_HTTP_REQUEST = 10;

/**
 * Reads many accounts, 100 per getMultipleAccounts, ten calls per JSON-RPC batch, never below `minContextSlot`.
 * Each call is at one slot; the highest is returned.
 */
export async function readAccountsMany(
  rpc: SolanaRpc,
  keys: string[],
  minContextSlot: number,
): Promise<{ slot: number; accounts: Map<string, RawAccount | null> }> {
  const accounts = new Map<string, RawAccount | null>();
  let slot = minContextSlot;
  for (const read of await readKeyLists(rpc, chunks(keys, 100), minContextSlot)) {
    slot = Math.max(slot, read.slot);
    for (const [key, account] of read.byKey) accounts.set(key, account);
  }
  return { slot, accounts };
}

/** A vault found by a discovery scan: its address and the token account it names. */
export interface DiscoveredVault {
  address: string;
  tokenAccount: string;
}

/** Discovery scans sent in one JSON-RPC batch (at 100,000 vaults about 40 KB each, so about 300 KB a request). */
export const PARTITIONS_PER_HTTP_REQUEST = 8;

/**
 * The program's vaults whose owner's first byte is one of `partitions` (0–255): one getProgramAccounts per
 * partition (size, discriminator and a one-byte `memcmp` on the owner at offset 8), returning only the 32 bytes of
 * the token account (`dataSlice`), so each answer holds about 1/256 of the vaults — at 100,000 vaults about 390
 * accounts, some 40 KB — never the whole program. Partitions are batched a few per HTTP request.
 */
export async function scanPartitions(
  rpc: SolanaRpc,
  programId: PublicKey,
  /** Owner first-byte values; null scans the whole program (no owner filter). */
  partitions: (number | null)[],
  minContextSlot: number,
): Promise<{ slot: number; vaults: DiscoveredVault[]; largestResponse: number }> {
  let slot = minContextSlot;
  let largestResponse = 0;
  const vaults: DiscoveredVault[] = [];
  for (const group of chunks(partitions, PARTITIONS_PER_HTTP_REQUEST)) {
    const replies = await rpc.batch(
      group.map((p) => ({
        method: "getProgramAccounts",
        params: [
          programId.toBase58(),
          {
            encoding: "base64",
            commitment: "confirmed",
            withContext: true,
            dataSlice: { offset: 40, length: 32 },
            filters: [
              { dataSize: COLLATERAL_VAULT_SIZE },
              { memcmp: { offset: 0, bytes: VAULT_DISCRIMINATOR_B58 } },
              ...(p === null ? [] : [{ memcmp: { offset: 8, bytes: bs58.encode(Uint8Array.of(p)) } }]),
            ],
            ...(minContextSlot > 0 ? { minContextSlot } : {}),
          },
        ],
      })),
      { timeoutMs: 30_000 },
    );
    for (const reply of replies) {
      if (!reply.ok) throw reply.error;
      const value = reply.value as ProgramAccountsReply;
      slot = Math.max(slot, value.context.slot);
      largestResponse = Math.max(largestResponse, value.value.length);
      for (const { pubkey, account } of value.value) {
        vaults.push({ address: pubkey, tokenAccount: new PublicKey(fromBase64(account.data[0])).toBase58() });
      }
    }
  }
  return { slot, vaults, largestResponse };
}

/**
 * Reads the accounts of several key lists (≤ 100 each), one getMultipleAccounts per list, ten lists per JSON-RPC
 * batch (one HTTP request, one subrequest, for 500 vaults and their token accounts). Each list is read at one slot.
 */
export async function readKeyLists(
  rpc: SolanaRpc,
  lists: string[][],
  minContextSlot: number,
): Promise<{ slot: number; byKey: Map<string, RawAccount | null> }[]> {
  const out: { slot: number; byKey: Map<string, RawAccount | null> }[] = [];
  for (const group of chunks(lists, CALLS_PER_HTTP_REQUEST)) {
    const replies = await rpc.batch(
      group.map((keys) => ({
        method: "getMultipleAccounts",
        params: [keys, { encoding: "base64", commitment: "confirmed", minContextSlot }],
      })),
      { timeoutMs: 30_000 },
    );
    replies.forEach((reply, j) => {
      if (!reply.ok) throw reply.error;
      const value = reply.value as { context: { slot: number }; value: (RpcAccount | null)[] };
      const keys = group[j]!;
      out.push({ slot: value.context.slot, byKey: new Map(keys.map((k, i) => [k, toRaw(value.value[i] ?? null)])) });
    });
  }
  return out;
}
