/**
 * JSON-RPC methods that read state: cluster info, blockhashes, accounts, balances, token accounts.
 * Simplification: account reads return the latest state at every commitment (LiteSVM keeps one state); only the
 * reported `context.slot` follows the requested commitment.
 */
import { PublicKey, VersionedMessage } from "@solana/web3.js";
import type { AccountFilter, DataSlice } from "./encode-account.ts";
import { encodeAccount, matchesFilters } from "./encode-account.ts";
import type { Chain } from "./engine.ts";
import { isTokenAccount, TOKEN_PROGRAM, uiTokenAmount } from "./ledger.ts";
import type { Config, Method } from "./rpc-util.ts";
import { commitmentOf, config, decodeWire, pubkey, RpcError, uint, withContext } from "./rpc-util.ts";
import { feeFor } from "./wire.ts";

const SLOTS_PER_EPOCH = 432_000;

function encodingOf(c: Config): { encoding: string; dataSlice?: DataSlice } {
  const encoding = typeof c.encoding === "string" ? c.encoding : "base64";
  if (!["base64", "base58", "binary", "jsonParsed"].includes(encoding)) {
    throw new RpcError(-32602, `Invalid params: unsupported encoding ${encoding} (the localnet has no zstd)`);
  }
  const ds = c.dataSlice as DataSlice | undefined;
  return ds
    ? { encoding, dataSlice: { offset: uint(ds.offset, "dataSlice"), length: uint(ds.length, "dataSlice") } }
    : { encoding };
}

function accountValue(chain: Chain, key: PublicKey, c: Config): unknown {
  const a = chain.getAccount(key);
  if (!a) return null;
  const { encoding, dataSlice } = encodingOf(c);
  return encodeAccount(a, encoding, (k) => chain.getAccount(k), dataSlice);
}

function tokenAccountsByOwner(chain: Chain, params: unknown[]): unknown {
  const owner = pubkey(params[0]);
  const filter = config(params, 1);
  const c = config(params, 2);
  const mint = filter.mint !== undefined ? pubkey(filter.mint) : null;
  const program = filter.programId !== undefined ? pubkey(filter.programId) : mint ? TOKEN_PROGRAM : null;
  if (!program) throw new RpcError(-32602, "Invalid params: expected mint or programId filter");
  const value = chain.svm
    .programAccounts(program)
    .filter(({ account }) => isTokenAccount(account))
    .filter(({ account }) => new PublicKey(account.data.slice(32, 64)).equals(owner))
    .filter(({ account }) => !mint || new PublicKey(account.data.slice(0, 32)).equals(mint))
    .map(({ pubkey: k }) => ({ pubkey: k.toBase58(), account: accountValue(chain, k, c) }));
  return withContext(chain, c, value);
}

function programAccounts(chain: Chain, params: unknown[]): unknown {
  const program = pubkey(params[0]);
  const c = config(params, 1);
  const filters = (Array.isArray(c.filters) ? c.filters : []) as AccountFilter[];
  const value = chain.svm
    .programAccounts(program)
    .filter(({ account }) => matchesFilters(account.data, filters))
    .map(({ pubkey: k }) => ({ pubkey: k.toBase58(), account: accountValue(chain, k, c) }));
  return c.withContext ? withContext(chain, c, value) : value;
}

export const accountMethods: Record<string, Method> = {
  getHealth: () => "ok",
  getVersion: () => ({ "solana-core": "2.2.0", "feature-set": 3294202862 }),
  getGenesisHash: (chain) => chain.clock.genesisHash,
  getIdentity: (chain) => ({ identity: chain.faucet.publicKey.toBase58() }),
  getSlot: (chain, p) => chain.clock.slotAt(commitmentOf(config(p, 0))),
  getBlockHeight: (chain, p) => chain.clock.slotAt(commitmentOf(config(p, 0))),
  getTransactionCount: (chain) => chain.ledger.records.length,
  minimumLedgerSlot: () => 0,
  getFirstAvailableBlock: () => 0,
  getBlockTime: (chain, p) => chain.clock.blockTime(uint(p[0], "slot")),
  getEpochInfo: (chain, p) => {
    const slot = chain.clock.slotAt(commitmentOf(config(p, 0)));
    return {
      absoluteSlot: slot,
      blockHeight: slot,
      epoch: Math.floor(slot / SLOTS_PER_EPOCH),
      slotIndex: slot % SLOTS_PER_EPOCH,
      slotsInEpoch: SLOTS_PER_EPOCH,
      transactionCount: chain.ledger.records.length,
    };
  },
  getLatestBlockhash: (chain, p) => {
    const c = config(p, 0);
    const { blockhash, lastValidBlockHeight } = chain.clock.latestBlockhash(commitmentOf(c));
    return withContext(chain, c, { blockhash, lastValidBlockHeight });
  },
  isBlockhashValid: (chain, p) => {
    if (typeof p[0] !== "string") throw new RpcError(-32602, "Invalid params: expected a blockhash");
    return withContext(chain, config(p, 1), chain.clock.isBlockhashValid(p[0]));
  },
  getFeeForMessage: (chain, p) => {
    const bytes = decodeWire(p[0], "base64");
    let message: VersionedMessage;
    try {
      message = VersionedMessage.deserialize(bytes);
    } catch {
      throw new RpcError(-32602, "invalid message");
    }
    const valid = chain.clock.isBlockhashValid(message.recentBlockhash);
    return withContext(chain, config(p, 1), valid ? Number(feeFor(message)) : null);
  },
  getMinimumBalanceForRentExemption: (chain, p) => Number(chain.minimumBalance(uint(p[0] ?? 0, "data length"))),
  getAccountInfo: (chain, p) => withContext(chain, config(p, 1), accountValue(chain, pubkey(p[0]), config(p, 1))),
  getMultipleAccounts: (chain, p) => {
    if (!Array.isArray(p[0])) throw new RpcError(-32602, "Invalid params: expected an array of addresses");
    if (p[0].length > 100) throw new RpcError(-32602, "Too many inputs provided; max 100");
    const c = config(p, 1);
    return withContext(
      chain,
      c,
      p[0].map((k) => accountValue(chain, pubkey(k), c)),
    );
  },
  getProgramAccounts: programAccounts,
  getBalance: (chain, p) => withContext(chain, config(p, 1), Number(chain.getAccount(pubkey(p[0]))?.lamports ?? 0n)),
  getTokenAccountBalance: (chain, p) => {
    const a = chain.getAccount(pubkey(p[0]));
    if (!isTokenAccount(a)) throw new RpcError(-32602, "Invalid param: not a Token account");
    const mint = chain.getAccount(new PublicKey(a.data.slice(0, 32)));
    const amount = Buffer.from(a.data).readBigUInt64LE(64);
    return withContext(chain, config(p, 1), uiTokenAmount(amount, mint?.data[44] ?? 0));
  },
  getTokenAccountsByOwner: tokenAccountsByOwner,
};
