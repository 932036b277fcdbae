/** JSON-RPC methods about transactions: send, simulate, statuses, history, airdrops, priority fees. */

import type { Commitment } from "./clock.ts";
import { normaliseCommitment } from "./clock.ts";
import { encodeAccount } from "./encode-account.ts";
import { encodeTransaction, statusOf } from "./encode-tx.ts";
import type { Chain, SimulationResult } from "./engine.ts";
import { describeInstructionError } from "./execute.ts";
import type { TxRecord } from "./ledger.ts";
import type { Config, Method } from "./rpc-util.ts";
import { config, decodeWire, pubkey, RpcError, str, uint, withContext } from "./rpc-util.ts";
import type { TransactionErrorJson } from "./svm.ts";
import { FrontError } from "./wire.ts";

const STATUS_CACHE_SLOTS = 150;
const TX_ERROR_TEXT: Record<string, string> = {
  BlockhashNotFound: "Blockhash not found",
  AlreadyProcessed: "This transaction has already been processed",
  AccountNotFound: "Attempt to debit an account but found no record of a prior credit.",
  InsufficientFundsForFee: "Insufficient funds for fee",
  SignatureFailure: "Transaction did not pass signature verification",
};

/** The human text a node prints for a TransactionError. */
export function describeTransactionError(err: TransactionErrorJson): string {
  if (typeof err === "string") return TX_ERROR_TEXT[err] ?? err;
  const ie = err.InstructionError;
  if (Array.isArray(ie)) return `Error processing Instruction ${ie[0]}: ${describeInstructionError(ie[1])}`;
  return JSON.stringify(err);
}

function atLeastConfirmed(c: Config): Commitment {
  const commitment = normaliseCommitment(c.commitment, "finalized");
  if (commitment === "processed") throw new RpcError(-32602, "Method does not support commitment below `confirmed`");
  return commitment;
}

function statusEntry(chain: Chain, r: TxRecord): Record<string, unknown> {
  const status = chain.clock.statusOf(r.slot);
  return {
    slot: r.slot,
    confirmations: status === "finalized" ? null : chain.clock.slot - r.slot,
    err: r.meta.err,
    status: statusOf(r.meta.err),
    confirmationStatus: status,
  };
}

function signatureStatuses(chain: Chain, p: unknown[]): unknown {
  if (!Array.isArray(p[0])) throw new RpcError(-32602, "Invalid params: expected an array of signatures");
  if (p[0].length > 256) throw new RpcError(-32602, "Too many inputs provided; max 256");
  const c = config(p, 1);
  const value = p[0].map((sig) => {
    const r = typeof sig === "string" ? chain.ledger.get(sig) : undefined;
    // A node behind the tip has not seen what landed after its slot.
    if (!r || r.slot > chain.clock.slot) return null;
    // Without searchTransactionHistory a node only answers from its recent status cache.
    if (!c.searchTransactionHistory && chain.clock.slot - r.slot > STATUS_CACHE_SLOTS) return null;
    return statusEntry(chain, r);
  });
  return { context: { apiVersion: "2.2.0", slot: chain.clock.slot }, value };
}

function getTransaction(chain: Chain, p: unknown[]): unknown {
  const sig = str(p, 0, "signature");
  const c = typeof p[1] === "string" ? { encoding: p[1] } : config(p, 1);
  const r = chain.ledger.get(sig);
  if (!r || r.slot > chain.clock.slotAt(atLeastConfirmed(c))) return null;
  const encoding = typeof c.encoding === "string" ? c.encoding : "json";
  if (!["json", "jsonParsed", "base64", "base58"].includes(encoding)) {
    throw new RpcError(-32602, `Invalid params: unsupported encoding ${encoding}`);
  }
  const max = c.maxSupportedTransactionVersion;
  return encodeTransaction(r, encoding === "base58" ? "base64" : encoding, typeof max === "number" ? max : undefined);
}

function signaturesForAddress(chain: Chain, p: unknown[]): unknown {
  const address = pubkey(p[0]).toBase58();
  const c = config(p, 1);
  const limit = c.limit === undefined ? 1000 : uint(c.limit, "limit");
  if (limit < 1 || limit > 1000) throw new RpcError(-32602, "Invalid limit; max 1000");
  let list = chain.ledger.forAddress(address, chain.clock.slotAt(atLeastConfirmed(c)));
  if (typeof c.before === "string") {
    const at = list.findIndex((r) => r.signature === c.before);
    list = at < 0 ? [] : list.slice(at + 1);
  }
  if (typeof c.until === "string") {
    const at = list.findIndex((r) => r.signature === c.until);
    if (at >= 0) list = list.slice(0, at);
  }
  return list.slice(0, limit).map((r) => ({
    signature: r.signature,
    slot: r.slot,
    err: r.meta.err,
    memo: null,
    blockTime: r.blockTime,
    confirmationStatus: chain.clock.statusOf(r.slot),
  }));
}

function frontToRpc(e: unknown): never {
  if (e instanceof FrontError) {
    const data = e.txError
      ? { err: e.txError, logs: [], unitsConsumed: 0, accounts: null, returnData: null }
      : undefined;
    throw new RpcError(e.code, e.message, data);
  }
  throw e;
}

function preflightError(sim: SimulationResult): RpcError {
  const err = sim.err!;
  return new RpcError(-32002, `Transaction simulation failed: ${describeTransactionError(err)}`, {
    err,
    logs: sim.logs,
    unitsConsumed: Number(sim.unitsConsumed),
    accounts: null,
    returnData: null,
    innerInstructions: null,
  });
}

function sendTransaction(chain: Chain, p: unknown[]): unknown {
  const c = config(p, 1);
  const wire = decodeWire(p[0], c.encoding);
  try {
    if (!c.skipPreflight) {
      const sim = chain.simulate(wire, { sigVerify: true });
      if (sim.err) throw preflightError(sim);
    }
    return chain.sendTransaction(wire).signature;
  } catch (e) {
    return frontToRpc(e);
  }
}

function simulateTransaction(chain: Chain, p: unknown[]): unknown {
  const c = config(p, 1);
  const wire = decodeWire(p[0], c.encoding);
  if (c.sigVerify && c.replaceRecentBlockhash) {
    throw new RpcError(-32602, "sigVerify may not be used with replaceRecentBlockhash");
  }
  const acc = config([c.accounts], 0);
  const addresses = Array.isArray(acc.addresses) ? acc.addresses.map(pubkey) : undefined;
  let sim: SimulationResult;
  try {
    sim = chain.simulate(wire, {
      sigVerify: !!c.sigVerify,
      replaceRecentBlockhash: !!c.replaceRecentBlockhash,
      accounts: addresses,
    });
  } catch (e) {
    return frontToRpc(e);
  }
  const encoding = typeof acc.encoding === "string" ? acc.encoding : "base64";
  const value: Record<string, unknown> = {
    err: sim.err,
    logs: sim.logs,
    accounts: sim.accounts?.map((a) => (a ? encodeAccount(a, encoding, (k) => chain.getAccount(k)) : null)) ?? null,
    unitsConsumed: Number(sim.unitsConsumed),
    returnData: null,
    innerInstructions: null,
  };
  if (c.replaceRecentBlockhash) {
    const { blockhash, lastValidBlockHeight } = chain.clock.latestBlockhash("processed");
    value.replacementBlockhash = { blockhash, lastValidBlockHeight };
  }
  return withContext(chain, { commitment: "processed" }, value);
}

function prioritizationFees(chain: Chain, p: unknown[]): unknown {
  const filter = new Set((Array.isArray(p[0]) ? p[0] : []).map((k) => pubkey(k).toBase58()));
  const newest = chain.clock.slot;
  const oldest = Math.max(0, newest - STATUS_CACHE_SLOTS + 1);
  const minBySlot = new Map<number, bigint>();
  for (let i = chain.ledger.records.length - 1; i >= 0; i--) {
    const r = chain.ledger.records[i]!;
    if (r.slot < oldest) break;
    const m = r.message;
    const writes = m.staticAccountKeys.some((k, idx) => m.isAccountWritable(idx) && filter.has(k.toBase58()));
    if (filter.size > 0 && !writes) continue;
    const prev = minBySlot.get(r.slot);
    if (prev === undefined || r.computeUnitPrice < prev) minBySlot.set(r.slot, r.computeUnitPrice);
  }
  const out: Array<{ slot: number; prioritizationFee: number }> = [];
  for (let s = oldest; s <= newest; s++) out.push({ slot: s, prioritizationFee: Number(minBySlot.get(s) ?? 0n) });
  return out;
}

export const txMethods: Record<string, Method> = {
  getSignatureStatuses: signatureStatuses,
  getTransaction,
  getSignaturesForAddress: signaturesForAddress,
  sendTransaction,
  simulateTransaction,
  getRecentPrioritizationFees: prioritizationFees,
  requestAirdrop: (chain, p) => {
    const to = pubkey(p[0]);
    const lamports = uint(p[1], "lamports");
    try {
      return chain.airdrop(to, BigInt(lamports)).signature;
    } catch (e) {
      return frontToRpc(e);
    }
  },
};
