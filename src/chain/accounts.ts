import { PublicKey } from "@solana/web3.js";
import { TOKEN_PROGRAM_ID } from "./program/index.ts";
import type { SolanaRpc } from "./rpc.ts";

/** An account as read over RPC (base64 data decoded). */
export interface RawAccount {
  lamports: bigint;
  owner: PublicKey;
  data: Uint8Array;
  executable: boolean;
}

/** An account as getMultipleAccounts / getAccountInfo return it with base64 encoding. */
export interface RpcAccount {
  lamports: number;
  owner: string;
  data: [string, string];
  executable: boolean;
}

/** Decodes standard base64 without Node's Buffer. */
export function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encodes bytes as standard base64 without Node's Buffer. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Decodes an RPC account (base64 data) into a RawAccount. */
export function toRaw(a: RpcAccount | null): RawAccount | null {
  if (!a) return null;
  return {
    lamports: BigInt(a.lamports),
    owner: new PublicKey(a.owner),
    data: fromBase64(a.data[0]),
    executable: a.executable,
  };
}

/**
 * Reads up to 100 accounts in one `getMultipleAccounts` call, all at one slot (the response's context slot).
 * `minContextSlot` refuses an answer from a node behind what the caller has already seen.
 */
export async function getAccounts(
  rpc: SolanaRpc,
  keys: PublicKey[],
  opts: { commitment?: "processed" | "confirmed" | "finalized"; minContextSlot?: number } = {},
): Promise<{ slot: number; accounts: (RawAccount | null)[] }> {
  if (keys.length > 100) throw new RangeError("getMultipleAccounts takes at most 100 keys");
  const result = await rpc.call<{ context: { slot: number }; value: (RpcAccount | null)[] }>("getMultipleAccounts", [
    keys.map((k) => k.toBase58()),
    {
      encoding: "base64",
      commitment: opts.commitment ?? "confirmed",
      ...(opts.minContextSlot !== undefined ? { minContextSlot: opts.minContextSlot } : {}),
    },
  ]);
  return { slot: result.context.slot, accounts: result.value.map(toRaw) };
}

/** An SPL Token account (classic Tokenkeg layout, 165 bytes). */
export interface TokenAccount {
  mint: PublicKey;
  owner: PublicKey;
  amount: bigint;
  /** 1 initialized, 2 frozen. */
  state: number;
}

/** Decodes a classic SPL Token account; null when the account is not one. */
export function decodeTokenAccount(account: RawAccount | null): TokenAccount | null {
  if (!account?.owner.equals(TOKEN_PROGRAM_ID) || account.data.length !== 165) return null;
  const view = new DataView(account.data.buffer, account.data.byteOffset, account.data.byteLength);
  const state = account.data[108]!;
  if (state === 0) return null;
  return {
    mint: new PublicKey(account.data.subarray(0, 32)),
    owner: new PublicKey(account.data.subarray(32, 64)),
    amount: view.getBigUint64(64, true),
    state,
  };
}

/** An SPL Token mint (classic layout, 82 bytes). */
export interface MintAccount {
  decimals: number;
  supply: bigint;
}

/** Decodes a classic SPL Token mint; null when the account is not an initialized Tokenkeg mint. */
export function decodeMint(account: RawAccount | null): MintAccount | null {
  if (!account?.owner.equals(TOKEN_PROGRAM_ID) || account.data.length !== 82) return null;
  if (account.data[45] !== 1) return null;
  const view = new DataView(account.data.buffer, account.data.byteOffset, account.data.byteLength);
  return { supply: view.getBigUint64(36, true), decimals: account.data[44]! };
}

/** Decodes an account only when `programId` owns it and it decodes; anything else reads as absent. */
export function decodeOwned<T>(
  account: RawAccount | null | undefined,
  programId: PublicKey,
  decode: (data: Uint8Array) => T,
): T | null {
  if (!account?.owner.equals(programId)) return null;
  try {
    return decode(account.data);
  } catch {
    return null;
  }
}
