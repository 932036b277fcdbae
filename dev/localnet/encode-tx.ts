/**
 * getTransaction encodings (json, jsonParsed, base64) of ledger records, shaped like the real RPC's output.
 */
import bs58 from "./base58.ts";
import type { TxMeta, TxRecord } from "./ledger.ts";
import { parseInstruction } from "./parse-instruction.ts";
import type { RawInnerInstruction } from "./svm.ts";
import { FrontError } from "./wire.ts";

/** `{ Ok: null }` / `{ Err: err }` as in meta.status and signature statuses. */
export function statusOf(err: unknown): Record<string, unknown> {
  return err ? { Err: err } : { Ok: null };
}

function encodeMetaCommon(meta: TxMeta): Record<string, unknown> {
  return {
    err: meta.err,
    status: statusOf(meta.err),
    fee: Number(meta.fee),
    preBalances: meta.preBalances.map(Number),
    postBalances: meta.postBalances.map(Number),
    preTokenBalances: meta.preTokenBalances,
    postTokenBalances: meta.postTokenBalances,
    logMessages: meta.logMessages,
    rewards: [],
    computeUnitsConsumed: Number(meta.computeUnitsConsumed),
  };
}

function rawInner(ii: RawInnerInstruction): Record<string, unknown> {
  return {
    programIdIndex: ii.programIdIndex,
    accounts: ii.accounts,
    data: bs58.encode(ii.data),
    stackHeight: ii.stackHeight,
  };
}

function jsonTransaction(r: TxRecord): Record<string, unknown> {
  const m = r.message;
  const message: Record<string, unknown> = {
    header: m.header,
    accountKeys: m.staticAccountKeys.map((k) => k.toBase58()),
    recentBlockhash: m.recentBlockhash,
    instructions: m.compiledInstructions.map((ix) => ({
      programIdIndex: ix.programIdIndex,
      accounts: ix.accountKeyIndexes,
      data: bs58.encode(ix.data),
      stackHeight: null,
    })),
  };
  if (r.version === 0) message.addressTableLookups = [];
  return { signatures: signaturesOf(r), message };
}

function signaturesOf(r: TxRecord): string[] {
  const n = r.message.header.numRequiredSignatures;
  // The wire starts with a one-byte shortvec for fewer than 128 signatures.
  return Array.from({ length: n }, (_v, i) => bs58.encode(r.wire.slice(1 + 64 * i, 1 + 64 * (i + 1))));
}

function parsedTransaction(r: TxRecord): Record<string, unknown> {
  const m = r.message;
  const keys = m.staticAccountKeys;
  const accountKeys = keys.map((k, i) => ({
    pubkey: k.toBase58(),
    signer: m.isAccountSigner(i),
    writable: m.isAccountWritable(i),
    source: "transaction",
  }));
  const instructions = m.compiledInstructions.map((ix) =>
    parseInstruction(
      keys[ix.programIdIndex]!,
      ix.accountKeyIndexes.map((i) => keys[i]!),
      ix.data,
      null,
    ),
  );
  const message: Record<string, unknown> = { accountKeys, recentBlockhash: m.recentBlockhash, instructions };
  if (r.version === 0) message.addressTableLookups = [];
  return { signatures: signaturesOf(r), message };
}

/** The standard error for a v0 transaction requested without maxSupportedTransactionVersion. */
export function unsupportedVersionError(): FrontError {
  return new FrontError(
    -32015,
    'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
  );
}

/** A ledger record in the requested getTransaction encoding. */
export function encodeTransaction(
  r: TxRecord,
  encoding: string,
  maxVersion: number | undefined,
): Record<string, unknown> {
  if (r.version === 0 && maxVersion === undefined) throw unsupportedVersionError();
  const meta = encodeMetaCommon(r.meta);
  const keys = r.message.staticAccountKeys;
  let transaction: unknown;
  if (encoding === "jsonParsed") {
    transaction = parsedTransaction(r);
    meta.innerInstructions = r.meta.innerInstructions.map((g) => ({
      index: g.index,
      instructions: g.instructions.map((ii) =>
        parseInstruction(
          keys[ii.programIdIndex]!,
          ii.accounts.map((i) => keys[i]!),
          ii.data,
          ii.stackHeight,
        ),
      ),
    }));
  } else {
    transaction = encoding === "base64" ? [Buffer.from(r.wire).toString("base64"), "base64"] : jsonTransaction(r);
    meta.innerInstructions = r.meta.innerInstructions.map((g) => ({
      index: g.index,
      instructions: g.instructions.map(rawInner),
    }));
    meta.loadedAddresses = { writable: [], readonly: [] };
  }
  const out: Record<string, unknown> = { slot: r.slot, blockTime: r.blockTime, transaction, meta };
  if (maxVersion !== undefined) out.version = r.version;
  return out;
}
