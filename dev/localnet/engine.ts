/**
 * The localnet's validator: front checks (signatures, blockhashes, duplicates, fees), execution in LiteSVM or
 * through a program model, the ledger, the slot clock and change notifications.
 */

import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import type { TransactionInstruction } from "@solana/web3.js";
import { ComputeBudgetProgram, Keypair, PublicKey, SystemProgram } from "@solana/web3.js";
import bs58 from "./base58.ts";
import { SlotClock } from "./clock.ts";
import { executeWithModels } from "./execute.ts";
import type { TxRecord } from "./ledger.ts";
import { Ledger, tokenBalances } from "./ledger.ts";
import type { AccountState, ProgramModel } from "./program-model.ts";
import type { RawInnerInstruction, TransactionErrorJson } from "./svm.ts";
import { compileLegacy, Svm, shortvec } from "./svm.ts";
import type { ParsedTx } from "./wire.ts";
import { computeBudget, FrontError, feeFor, parseTransaction, signatureOf, verifySignatures } from "./wire.ts";

const UPGRADEABLE_LOADER = new PublicKey("BPFLoaderUpgradeab1e11111111111111111111111");
/** DER prefix of an Ed25519 PKCS#8 private key: the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const privateKeys = new WeakMap<Keypair, KeyObject>();

/** Signs with Node's native ed25519 (the same signature as web3.js's pure-JS signer, ~20× faster). */
function signNative(signer: Keypair, message: Uint8Array): Buffer {
  let key = privateKeys.get(signer);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, signer.secretKey.subarray(0, 32)]),
      format: "der",
      type: "pkcs8",
    });
    privateKeys.set(signer, key);
  }
  return sign(null, message, key);
}

export interface ChainOptions {
  finalityDepth?: number;
}

export interface SimulateOptions {
  sigVerify?: boolean;
  replaceRecentBlockhash?: boolean;
  /** Accounts whose post-simulation state is returned. */
  accounts?: PublicKey[];
}

export interface SimulationResult {
  err: TransactionErrorJson | null;
  logs: string[];
  unitsConsumed: bigint;
  innerInstructions: Array<{ index: number; instructions: RawInnerInstruction[] }>;
  accounts: Array<AccountState | null> | null;
  tx: ParsedTx;
}

/** Outcome of running a transaction, before it is recorded (or rolled back for a simulation). */
interface RunOutcome {
  err: TransactionErrorJson | null;
  logs: string[];
  unitsConsumed: bigint;
  innerInstructions: Array<{ index: number; instructions: RawInnerInstruction[] }>;
}

export class Chain {
  readonly svm = new Svm();
  readonly ledger = new Ledger();
  readonly clock: SlotClock;
  /** Funds airdrops; created with a large balance at start-up. */
  readonly faucet = Keypair.generate();
  private readonly models = new Map<string, ProgramModel>();
  private readonly startTime = BigInt(Math.floor(Date.now() / 1000));
  private readonly slotListeners = new Set<(slot: number) => void>();
  private readonly txListeners = new Set<(record: TxRecord) => void>();
  private submitted = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(opts: ChainOptions = {}) {
    this.clock = new SlotClock(opts.finalityDepth ?? 32);
    this.svm.setAccount(this.faucet.publicKey, {
      // 5M SOL: stays below 2^53 lamports, so JSON numbers (getBalance, pre/postBalances) remain exact.
      lamports: 5_000_000n * 1_000_000_000n,
      owner: SystemProgram.programId,
      data: new Uint8Array(0),
      executable: false,
    });
    this.syncClock();
  }

  /** Registers a TypeScript program model at its program id. */
  registerModel(model: ProgramModel): void {
    this.models.set(model.programId.toBase58(), model);
  }

  /** Account state; model program ids read as executable upgradeable-loader programs. */
  getAccount(pubkey: PublicKey): AccountState | null {
    if (this.models.has(pubkey.toBase58())) {
      return { lamports: 1_141_440n, owner: UPGRADEABLE_LOADER, data: new Uint8Array(36), executable: true };
    }
    return this.svm.getAccount(pubkey);
  }

  /** Subscribes to new slots; returns an unsubscribe function. */
  onSlot(cb: (slot: number) => void): () => void {
    this.slotListeners.add(cb);
    return () => this.slotListeners.delete(cb);
  }

  /** Subscribes to recorded transactions; returns an unsubscribe function. */
  onTransaction(cb: (record: TxRecord) => void): () => void {
    this.txListeners.add(cb);
    return () => this.txListeners.delete(cb);
  }

  /** Starts producing a slot every `slotMs` milliseconds. */
  start(slotMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.advanceSlots(1), slotMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Produces `n` slots at once (tests, /localnet/advance). */
  advanceSlots(n: number): void {
    for (let i = 0; i < n; i++) {
      this.clock.tick();
      this.syncClock();
      for (const cb of this.slotListeners) cb(this.clock.slot);
    }
  }

  /** Forgets every recent blockhash (transactions signed with them are refused) and issues a fresh one. */
  expireBlockhashes(): void {
    this.clock.expireBlockhashes();
  }

  private syncClock(): void {
    const slot = this.clock.slot;
    this.svm.setClock(BigInt(slot), BigInt(this.clock.blockTime(slot)), this.startTime);
  }

  /** Clock sysvar values the model sees. */
  get sysClock(): { slot: bigint; unixTimestamp: bigint } {
    return { slot: BigInt(this.clock.slot), unixTimestamp: BigInt(this.clock.blockTime(this.clock.slot)) };
  }

  /** Sends a wire transaction through the front checks; records it; throws FrontError when refused. */
  sendTransaction(wire: Uint8Array): TxRecord {
    const tx = parseTransaction(wire);
    if (!verifySignatures(tx)) {
      throw new FrontError(-32003, "Transaction signature verification failure", "SignatureFailure");
    }
    const signature = signatureOf(tx);
    if (this.ledger.has(signature)) {
      throw new FrontError(
        -32002,
        "Transaction simulation failed: This transaction has already been processed",
        "AlreadyProcessed",
      );
    }
    if (!this.clock.isBlockhashValid(tx.message.recentBlockhash)) {
      throw new FrontError(-32002, "Transaction simulation failed: Blockhash not found", "BlockhashNotFound");
    }
    const keys = tx.accountKeys;
    const load = (k: PublicKey) => this.svm.getAccount(k);
    const preBalances = keys.map((k) => this.getAccount(k)?.lamports ?? 0n);
    const preTokenBalances = tokenBalances(keys, load);
    const fee = feeFor(tx.message);
    const outcome = this.run(tx, fee);
    const slot = this.clock.slot;
    const record: TxRecord = {
      signature,
      slot,
      blockTime: this.clock.blockTime(slot),
      wire,
      message: tx.message,
      version: tx.version,
      computeUnitPrice: computeBudget(tx.message).price,
      meta: {
        err: outcome.err,
        fee,
        preBalances,
        postBalances: keys.map((k) => this.getAccount(k)?.lamports ?? 0n),
        preTokenBalances,
        postTokenBalances: tokenBalances(keys, load),
        logMessages: outcome.logs,
        innerInstructions: outcome.innerInstructions,
        computeUnitsConsumed: outcome.unitsConsumed,
      },
    };
    this.ledger.add(record);
    for (const cb of this.txListeners) cb(record);
    return record;
  }

  /** Executes a parsed transaction (fee included); on failure leaves only the fee charged. */
  private run(tx: ParsedTx, fee: bigint): RunOutcome {
    const payer = tx.accountKeys[0]!;
    const payerAccount = this.svm.getAccount(payer);
    if (!payerAccount)
      throw new FrontError(
        -32002,
        "Transaction simulation failed: Attempt to debit an account but found no record of a prior credit.",
        "AccountNotFound",
      );
    if (payerAccount.lamports < fee) {
      throw new FrontError(
        -32002,
        "Transaction simulation failed: Insufficient funds for fee",
        "InsufficientFundsForFee",
      );
    }
    const touchesModel = tx.message.compiledInstructions.some((ix) =>
      this.models.has(tx.accountKeys[ix.programIdIndex]?.toBase58() ?? ""),
    );
    if (!touchesModel) {
      const r = this.svm.execute(tx.wire, tx.version);
      if (!r.included)
        throw new FrontError(-32002, `Transaction simulation failed: ${JSON.stringify(r.err)}`, String(r.err));
      const innerInstructions = r.innerInstructions
        .map((instructions, index) => ({ index, instructions }))
        .filter((g) => g.instructions.length > 0);
      return { err: r.err, logs: r.logs, unitsConsumed: r.unitsConsumed, innerInstructions };
    }
    this.svm.setAccount(payer, { ...payerAccount, lamports: payerAccount.lamports - fee });
    const snapshot = tx.accountKeys.map((k) => [k, this.svm.getAccount(k)] as const);
    const outcome = executeWithModels(this.svm, tx, this.models, this.sysClock);
    if (outcome.err) for (const [k, a] of snapshot) this.svm.setAccount(k, a);
    return outcome;
  }

  /** Runs a transaction through the same pipeline and rolls every account back. */
  simulate(wire: Uint8Array, opts: SimulateOptions = {}): SimulationResult {
    const tx = parseTransaction(wire);
    if (opts.sigVerify && !verifySignatures(tx)) {
      throw new FrontError(-32003, "Transaction signature verification failure", "SignatureFailure");
    }
    const base = { unitsConsumed: 0n, innerInstructions: [], accounts: null, tx, logs: [] as string[] };
    if (!opts.replaceRecentBlockhash && !this.clock.isBlockhashValid(tx.message.recentBlockhash)) {
      return { ...base, err: "BlockhashNotFound" };
    }
    const snapshot = tx.accountKeys.map((k) => [k, this.svm.getAccount(k)] as const);
    try {
      const outcome = this.run(tx, feeFor(tx.message));
      const accounts = opts.accounts ? opts.accounts.map((k) => this.getAccount(k)) : null;
      return { ...outcome, accounts, tx };
    } catch (e) {
      if (e instanceof FrontError && e.txError) return { ...base, err: e.txError };
      throw e;
    } finally {
      for (const [k, a] of snapshot) this.svm.setAccount(k, a);
    }
  }

  /** Builds, signs and sends a transaction from the localnet's own keys (faucet, mint authority…). */
  submit(instructions: TransactionInstruction[], signers: Keypair[]): TxRecord {
    const payer = signers[0] ?? this.faucet;
    const { blockhash } = this.clock.latestBlockhash("processed");
    // A varying unit limit keeps repeated identical faucet transactions from colliding as duplicates.
    this.submitted = (this.submitted + 1) % 100_000;
    const all = [ComputeBudgetProgram.setComputeUnitLimit({ units: 1_000_000 - this.submitted }), ...instructions];
    // What Transaction.sign + serialize do, with one compile, native signing and no client-side re-verification
    // (the front verifies every signature).
    const unique = [...new Map(signers.map((s) => [s.publicKey.toBase58(), s])).values()];
    const compiled = compileLegacy(
      payer.publicKey,
      all.map((ix) => ({
        programId: ix.programId,
        data: ix.data,
        keys: ix.keys.map((k) => ({ ...k, isSigner: k.isSigner || unique.some((s) => s.publicKey.equals(k.pubkey)) })),
      })),
      bs58.decode(blockhash),
    );
    const bytes = compiled.message;
    const n = compiled.signers;
    const signatures = compiled.accountKeys.slice(0, n).map((key) => {
      const signer = unique.find((s) => s.publicKey.equals(key));
      if (!signer) throw new Error(`missing signer ${key.toBase58()}`);
      return signNative(signer, bytes);
    });
    return this.sendTransaction(Buffer.concat([Buffer.from(shortvec(n)), ...signatures, bytes]));
  }

  /** A real System transfer from the faucet, recorded on the ledger. */
  airdrop(to: PublicKey, lamports: bigint): TxRecord {
    const ix = SystemProgram.transfer({ fromPubkey: this.faucet.publicKey, toPubkey: to, lamports });
    return this.submit([ix], [this.faucet]);
  }

  /** Rent-exempt minimum for `dataLen` bytes. */
  minimumBalance(dataLen: number): bigint {
    return this.svm.minimumBalance(dataLen);
  }
}
