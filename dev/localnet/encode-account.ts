/**
 * Account encodings of the JSON-RPC API: base64, base58 and jsonParsed (SPL Token mints and accounts are parsed
 * as the real RPC does; other accounts fall back to base64, as the real RPC does for unknown programs).
 */
import { PublicKey } from "@solana/web3.js";
import bs58 from "./base58.ts";
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM, uiTokenAmount } from "./ledger.ts";
import type { AccountState } from "./program-model.ts";

export interface DataSlice {
  offset: number;
  length: number;
}

/** u64::MAX, which real nodes report as the rentEpoch of rent-exempt accounts (a JSON number, so a float here). */
const RENT_EXEMPT_EPOCH = Number(2n ** 64n - 1n);

function optionKey(data: Uint8Array, at: number): string | null {
  const tag = Buffer.from(data).readUInt32LE(at);
  return tag === 1 ? new PublicKey(data.slice(at + 4, at + 36)).toBase58() : null;
}

function parseMint(data: Uint8Array): Record<string, unknown> {
  const buf = Buffer.from(data);
  return {
    type: "mint",
    info: {
      decimals: data[44],
      freezeAuthority: optionKey(data, 46),
      isInitialized: data[45] === 1,
      mintAuthority: optionKey(data, 0),
      supply: buf.readBigUInt64LE(36).toString(),
    },
  };
}

function parseTokenAccount(data: Uint8Array, load: (k: PublicKey) => AccountState | null): Record<string, unknown> {
  const buf = Buffer.from(data);
  const mint = new PublicKey(data.slice(0, 32));
  const decimals = load(mint)?.data[44] ?? 0;
  const state = data[108] === 2 ? "frozen" : data[108] === 1 ? "initialized" : "uninitialized";
  const info: Record<string, unknown> = {
    isNative: buf.readUInt32LE(109) === 1,
    mint: mint.toBase58(),
    owner: new PublicKey(data.slice(32, 64)).toBase58(),
    state,
    tokenAmount: uiTokenAmount(buf.readBigUInt64LE(64), decimals),
  };
  const delegate = optionKey(data, 72);
  if (delegate) {
    info.delegate = delegate;
    info.delegatedAmount = uiTokenAmount(buf.readBigUInt64LE(121), decimals);
  }
  const closeAuthority = optionKey(data, 129);
  if (closeAuthority) info.closeAuthority = closeAuthority;
  return { type: "account", info };
}

/** The jsonParsed `data` of a token-program account, or null when it is not a mint or token account. */
export function parseTokenData(
  a: AccountState,
  load: (k: PublicKey) => AccountState | null,
): Record<string, unknown> | null {
  const program = a.owner.equals(TOKEN_PROGRAM)
    ? "spl-token"
    : a.owner.equals(TOKEN_2022_PROGRAM)
      ? "spl-token-2022"
      : null;
  if (!program) return null;
  if (a.data.length === 82) return { program, parsed: parseMint(a.data), space: 82 };
  if (a.data.length === 165) return { program, parsed: parseTokenAccount(a.data, load), space: 165 };
  return null;
}

/** Encodes an account as in getAccountInfo's `value`. */
export function encodeAccount(
  a: AccountState,
  encoding: string,
  load: (k: PublicKey) => AccountState | null,
  dataSlice?: DataSlice,
): Record<string, unknown> {
  const raw = dataSlice ? a.data.slice(dataSlice.offset, dataSlice.offset + dataSlice.length) : a.data;
  let data: unknown = [Buffer.from(raw).toString("base64"), "base64"];
  if (encoding === "base58" || encoding === "binary") data = [bs58.encode(raw), "base58"];
  if (encoding === "jsonParsed" && !dataSlice) data = parseTokenData(a, load) ?? data;
  return {
    data,
    executable: a.executable,
    lamports: Number(a.lamports),
    owner: a.owner.toBase58(),
    rentEpoch: RENT_EXEMPT_EPOCH,
    space: a.data.length,
  };
}

/** A getProgramAccounts filter. */
export type AccountFilter = { dataSize: number } | { memcmp: { offset: number; bytes: string; encoding?: string } };

/** True when the account data passes every filter. */
export function matchesFilters(data: Uint8Array, filters: AccountFilter[]): boolean {
  return filters.every((f) => {
    if ("dataSize" in f) return data.length === f.dataSize;
    const bytes = f.memcmp.encoding === "base64" ? Buffer.from(f.memcmp.bytes, "base64") : bs58.decode(f.memcmp.bytes);
    const at = f.memcmp.offset;
    if (at + bytes.length > data.length) return false;
    return bytes.every((b, i) => data[at + i] === b);
  });
}
