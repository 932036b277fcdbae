/**
 * A thin, byte-level wrapper around one LiteSVM instance. LiteSVM is only the execution engine: signature and
 * blockhash checks are off and its transaction history is disabled (capacity 0), because the localnet front
 * verifies signatures, keeps blockhashes and dedups by itself — and because identical internal single-instruction
 * transactions must never be refused as duplicates.
 */

import type { TransactionInstruction } from "@solana/web3.js";
import { Keypair, PublicKey } from "@solana/web3.js";
import type { FailedTransactionMetadata, TransactionMetadata } from "litesvm/dist/internal.js";
import * as internal from "litesvm/dist/internal.js";
import type { AccountState } from "./program-model.ts";

/** JSON shape of a TransactionError as the RPC reports it. */
export type TransactionErrorJson = string | Record<string, unknown>;

/** An inner instruction in terms of the account keys of the transaction that produced it. */
export interface RawInnerInstruction {
  programIdIndex: number;
  accounts: number[];
  data: Uint8Array;
  stackHeight: number;
}

/** What LiteSVM reports for one executed transaction. */
export interface SvmResult {
  err: TransactionErrorJson | null;
  /** False when the transaction failed before execution (no fee charged, nothing committed). */
  included: boolean;
  logs: string[];
  innerInstructions: RawInnerInstruction[][];
  unitsConsumed: bigint;
}

const SYSTEM_PROGRAM = new PublicKey("11111111111111111111111111111111");
/** Errors LiteSVM reports for an executed (fee-charging) transaction; every other one aborts before execution. */
const EXECUTED_ERRORS = new Set(["InstructionError", "DuplicateInstruction", "InsufficientFundsForRent"]);
const enums = internal as unknown as Record<string, Record<string, number | string>>;

function reverseEnum(name: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const [k, v] of Object.entries(enums[name] ?? {})) if (typeof v === "number") out.set(v, k);
  return out;
}
const TX_ERRORS = reverseEnum("TransactionErrorFieldless");
const IX_ERRORS = reverseEnum("InstructionErrorFieldless");

function instructionErrorJson(e: unknown): unknown {
  if (typeof e === "number") return IX_ERRORS.get(e) ?? "GenericError";
  if (e instanceof internal.InstructionErrorCustom) return { Custom: e.code };
  if (e instanceof internal.InstructionErrorBorshIo) return "BorshIoError";
  return "GenericError";
}

/** Converts LiteSVM's error objects to the RPC's JSON form. */
export function transactionErrorJson(e: unknown): TransactionErrorJson {
  if (typeof e === "number") return TX_ERRORS.get(e) ?? "SanitizeFailure";
  if (e instanceof internal.TransactionErrorInstructionError) {
    return { InstructionError: [e.index, instructionErrorJson(e.err())] };
  }
  if (e instanceof internal.TransactionErrorDuplicateInstruction) return { DuplicateInstruction: e.index };
  if (e instanceof internal.TransactionErrorInsufficientFundsForRent) {
    return { InsufficientFundsForRent: { account_index: e.accountIndex } };
  }
  if (e instanceof internal.TransactionErrorProgramExecutionTemporarilyRestricted) {
    return { ProgramExecutionTemporarilyRestricted: { account_index: e.accountIndex } };
  }
  return "SanitizeFailure";
}

function toResult(r: TransactionMetadata | FailedTransactionMetadata): SvmResult {
  const failed = r instanceof internal.FailedTransactionMetadata;
  const meta = failed ? r.meta() : r;
  const err = failed ? transactionErrorJson(r.err()) : null;
  const included = err === null || (typeof err === "object" && EXECUTED_ERRORS.has(Object.keys(err)[0] ?? ""));
  return {
    err,
    included,
    logs: meta.logs(),
    innerInstructions: meta.innerInstructions().map((group) =>
      group.map((ii) => {
        const c = ii.instruction();
        return {
          programIdIndex: c.programIdIndex(),
          accounts: [...c.accounts()],
          data: c.data(),
          stackHeight: ii.stackHeight(),
        };
      }),
    ),
    unitsConsumed: meta.computeUnitsConsumed(),
  };
}

/** Encodes a compact-u16 (shortvec) length. */
export function shortvec(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if (rest === 0) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

type Meta = { pubkey: PublicKey; isSigner: boolean; isWritable: boolean };
type Ix = { programId: PublicKey; keys: Meta[]; data: Uint8Array };

/**
 * A legacy message's bytes for `instructions` paid by `payer`: what web3.js's Transaction.compileMessage +
 * serialize produce, without their per-key base58 sorting, which dominated the localnet's execution time. Keys:
 * writable signers (payer first), read-only signers, writable, read-only; programs are read-only non-signers.
 */
export function compileLegacy(
  payer: PublicKey,
  instructions: Ix[],
  blockhash: Uint8Array,
): { message: Buffer; accountKeys: PublicKey[]; signers: number } {
  const metas = new Map<string, Meta>();
  const merge = (pubkey: PublicKey, isSigner: boolean, isWritable: boolean) => {
    const id = pubkey.toBase58();
    const m = metas.get(id);
    if (m) {
      m.isSigner ||= isSigner;
      m.isWritable ||= isWritable;
    } else metas.set(id, { pubkey, isSigner, isWritable });
    return id;
  };
  merge(payer, true, true);
  const compiled = instructions.map((ix) => ({
    keys: ix.keys.map((k) => merge(k.pubkey, k.isSigner, k.isWritable)),
    program: merge(ix.programId, false, false),
    data: ix.data,
  }));
  const rank = (m: Meta) => (m.isSigner ? 0 : 2) + (m.isWritable ? 0 : 1);
  // Stable sort: the payer stays first among writable signers.
  const ordered = [...metas.entries()].map(([id, m], i) => ({ id, m, i }));
  ordered.sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i);
  const index = new Map(ordered.map((o, i) => [o.id, i] as const));
  const signers = ordered.filter((o) => o.m.isSigner).length;
  const header = [
    signers,
    ordered.filter((o) => o.m.isSigner && !o.m.isWritable).length,
    ordered.filter((o) => !o.m.isSigner && !o.m.isWritable).length,
  ];
  const parts: Uint8Array[] = [
    Uint8Array.from(header),
    Uint8Array.from(shortvec(ordered.length)),
    ...ordered.map((o) => o.m.pubkey.toBytes()),
    blockhash,
    Uint8Array.from(shortvec(compiled.length)),
  ];
  for (const ix of compiled) {
    const accounts = ix.keys.map((id) => index.get(id)!);
    parts.push(Uint8Array.from([index.get(ix.program)!, ...shortvec(accounts.length), ...accounts]));
    parts.push(Uint8Array.from(shortvec(ix.data.length)), ix.data);
  }
  return { message: Buffer.concat(parts), accountKeys: ordered.map((o) => o.m.pubkey), signers };
}

/** A one-instruction legacy transaction with zeroed signatures (LiteSVM's sigverify is off). */
export function compileSingle(
  payer: PublicKey,
  programId: PublicKey,
  keys: Meta[],
  data: Uint8Array,
  blockhash: Uint8Array,
): { wire: Buffer; accountKeys: PublicKey[] } {
  const { message, accountKeys, signers } = compileLegacy(payer, [{ programId, keys, data }], blockhash);
  const wire = Buffer.concat([Uint8Array.from(shortvec(signers)), new Uint8Array(64 * signers), message]);
  return { wire, accountKeys };
}

/** The LiteSVM instance plus the helpers the engine needs. */
export class Svm {
  readonly inner: internal.LiteSvm;
  /** Pays for internal single-instruction transactions; its balance is restored after each one. */
  private readonly internalPayer = Keypair.generate().publicKey;
  /** Bumped by every write (an account set, a transaction run): what `programAccounts` keys its memo on. */
  private version = 0;
  /** The last `programAccounts` answer, reused while nothing was written (a scan in 256 partitions reads it once). */
  private programAccountsMemo: {
    owner: string;
    version: number;
    list: Array<{ pubkey: PublicKey; account: AccountState }>;
  } | null = null;

  constructor() {
    this.inner = new internal.LiteSvm();
    this.inner.setSigverify(false);
    this.inner.setBlockhashCheck(false);
    this.inner.setTransactionHistory(0n);
    this.setAccount(this.internalPayer, {
      lamports: 1_000_000_000_000_000n,
      owner: SYSTEM_PROGRAM,
      data: new Uint8Array(0),
      executable: false,
    });
  }

  /** Current state of an account; null when it does not exist (0 lamports). */
  getAccount(pubkey: PublicKey): AccountState | null {
    const a = this.inner.getAccount(pubkey.toBytes());
    if (!a || a.lamports() === 0n) return null;
    return { lamports: a.lamports(), owner: new PublicKey(a.owner()), data: a.data(), executable: a.executable() };
  }

  /** Writes an account; null deletes it (an empty system account with 0 lamports). */
  setAccount(pubkey: PublicKey, state: AccountState | null): void {
    this.version++;
    const s = state ?? { lamports: 0n, owner: SYSTEM_PROGRAM, data: new Uint8Array(0), executable: false };
    this.inner.setAccount(
      pubkey.toBytes(),
      new internal.Account(s.lamports, s.data, s.owner.toBytes(), s.executable, 18446744073709551615n),
    );
  }

  /** Every account owned by `owner`. */
  programAccounts(owner: PublicKey): Array<{ pubkey: PublicKey; account: AccountState }> {
    const key = owner.toBase58();
    const memo = this.programAccountsMemo;
    if (memo && memo.owner === key && memo.version === this.version) return memo.list;
    const list = this.inner.getProgramAccounts(owner.toBytes()).map((x) => {
      const a = x.account();
      return {
        pubkey: new PublicKey(x.address),
        account: {
          lamports: a.lamports(),
          owner: new PublicKey(a.owner()),
          data: a.data(),
          executable: a.executable(),
        },
      };
    });
    this.programAccountsMemo = { owner: key, version: this.version, list };
    return list;
  }

  /** Executes a whole wire transaction (legacy or v0). LiteSVM charges the fee. */
  execute(wire: Uint8Array, version: "legacy" | 0): SvmResult {
    this.version++;
    const r = version === "legacy" ? this.inner.sendLegacyTransaction(wire) : this.inner.sendVersionedTransaction(wire);
    return toResult(r);
  }

  /**
   * Executes one instruction as its own legacy transaction paid by the internal payer (refunded afterwards).
   * `signers` are the accounts the instruction may treat as signers (outer signers, or a model's PDAs).
   * Returns the result and the internal message's account keys (inner instruction indices refer to them).
   */
  runInstruction(ix: TransactionInstruction, signers: Set<string>): { result: SvmResult; keys: PublicKey[] } {
    const keys = ix.keys.map((k) => ({ ...k, isSigner: signers.has(k.pubkey.toBase58()) }));
    const { wire, accountKeys } = compileSingle(this.internalPayer, ix.programId, keys, ix.data, this.blockhash());
    const before = this.getAccount(this.internalPayer);
    this.version++;
    const result = toResult(this.inner.sendLegacyTransaction(wire));
    this.setAccount(this.internalPayer, before);
    return { result, keys: accountKeys };
  }

  private blockhashCache: { text: string; bytes: Uint8Array } | null = null;

  /** LiteSVM's latest blockhash as bytes (decoded once per blockhash). */
  private blockhash(): Uint8Array {
    const text = this.inner.latestBlockhash();
    if (this.blockhashCache?.text !== text) this.blockhashCache = { text, bytes: new PublicKey(text).toBytes() };
    return this.blockhashCache.bytes;
  }

  /** Keeps LiteSVM's Clock sysvar in step with the localnet's slot clock. */
  setClock(slot: bigint, unixTimestamp: bigint, startTimestamp: bigint): void {
    this.inner.warpToSlot(slot);
    this.inner.setClock(new internal.Clock(slot, startTimestamp, 0n, 0n, unixTimestamp));
  }

  /** Rent-exempt minimum for `dataLen` bytes. */
  minimumBalance(dataLen: number): bigint {
    return this.inner.minimumBalanceForRentExemption(BigInt(dataLen));
  }
}
