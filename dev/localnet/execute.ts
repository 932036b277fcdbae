/**
 * Instruction-by-instruction execution of a transaction that touches a program model. Non-model instructions and
 * the model's CPIs run in LiteSVM as single-instruction transactions; model instructions run in the model. The
 * caller snapshots the accounts and restores them when the outcome carries an error.
 */

import type { PublicKey } from "@solana/web3.js";
import { TransactionInstruction } from "@solana/web3.js";
import type { InstructionAccount, InstructionErrorJson, InvokeContext, ProgramModel } from "./program-model.ts";
import { ProgramFailure } from "./program-model.ts";
import type { RawInnerInstruction, Svm, TransactionErrorJson } from "./svm.ts";
import type { ParsedTx } from "./wire.ts";

const UNITS_PER_INSTRUCTION = 200_000n;

export interface ExecOutcome {
  err: TransactionErrorJson | null;
  logs: string[];
  innerInstructions: Array<{ index: number; instructions: RawInnerInstruction[] }>;
  unitsConsumed: bigint;
}

/** Shared state of one transaction's execution. */
interface Run {
  svm: Svm;
  models: Map<string, ProgramModel>;
  outerIndex: Map<string, number>;
  clock: { slot: bigint; unixTimestamp: bigint };
  logs: string[];
  inner: RawInnerInstruction[];
  units: bigint;
}

const ERROR_TEXT: Record<string, string> = {
  MissingRequiredSignature: "missing required signature for instruction",
  InvalidAccountData: "invalid account data for instruction",
  InvalidInstructionData: "invalid instruction data",
  PrivilegeEscalation: "Cross-program invocation with unauthorized signer or writable account",
  ReadonlyDataModified: "instruction modified data of a read-only account",
  ExternalAccountDataModified: "instruction modified data of an account it does not own",
  AccountDataSizeChanged: "account data size changed",
  MissingAccount: "An account required by the instruction is missing",
};

/** The text a validator prints after `failed:` for an instruction error. */
export function describeInstructionError(e: unknown): string {
  if (typeof e === "object" && e !== null && "Custom" in e) {
    return `custom program error: 0x${(e as { Custom: number }).Custom.toString(16)}`;
  }
  return typeof e === "string" ? (ERROR_TEXT[e] ?? e) : JSON.stringify(e);
}

function instructionErrorOf(err: TransactionErrorJson): InstructionErrorJson {
  if (typeof err === "object" && Array.isArray(err.InstructionError)) {
    return err.InstructionError[1] as InstructionErrorJson;
  }
  return typeof err === "string" ? err : "GenericError";
}

/** Rewrites `invoke [n]` depths of a nested LiteSVM log by `shift`. */
function shiftLogs(logs: string[], shift: number): string[] {
  if (shift === 0) return logs;
  return logs.map((l) => l.replace(/^(Program \S+ invoke \[)(\d+)\]$/, (_m, p, d) => `${p}${Number(d) + shift}]`));
}

function remap(run: Run, keys: PublicKey[], ii: RawInnerInstruction, shift: number): RawInnerInstruction | null {
  const idx = (i: number) => run.outerIndex.get(keys[i]?.toBase58() ?? "") ?? -1;
  const accounts = ii.accounts.map(idx);
  const programIdIndex = idx(ii.programIdIndex);
  if (programIdIndex < 0 || accounts.includes(-1)) return null;
  return { programIdIndex, accounts, data: ii.data, stackHeight: ii.stackHeight + shift };
}

/** Runs an instruction in LiteSVM at invoke depth `depth` (1 = top level); throws ProgramFailure on error. */
function runInSvm(run: Run, ix: TransactionInstruction, signers: Set<string>, depth: number): void {
  const { result, keys } = run.svm.runInstruction(ix, signers);
  run.logs.push(...shiftLogs(result.logs, depth - 1));
  run.units += result.unitsConsumed;
  for (const ii of result.innerInstructions[0] ?? []) {
    const mapped = remap(run, keys, ii, depth - 1);
    if (mapped) run.inner.push(mapped);
  }
  if (result.err) throw new ProgramFailure(instructionErrorOf(result.err));
}

function toInstruction(programId: PublicKey, accounts: InstructionAccount[], data: Uint8Array): TransactionInstruction {
  return new TransactionInstruction({ programId, keys: accounts, data: Buffer.from(data) });
}

/** Checks a CPI against the caller's privileges, as the runtime does. */
function checkPrivileges(caller: InstructionAccount[], ix: TransactionInstruction, pdas: Set<string>): void {
  for (const k of ix.keys) {
    const mine = caller.find((a) => a.pubkey.equals(k.pubkey));
    if (!mine && !pdas.has(k.pubkey.toBase58())) throw new ProgramFailure("MissingAccount");
    if (k.isSigner && !mine?.isSigner && !pdas.has(k.pubkey.toBase58())) {
      throw new ProgramFailure("PrivilegeEscalation");
    }
    if (k.isWritable && mine && !mine.isWritable) throw new ProgramFailure("PrivilegeEscalation");
  }
}

function makeContext(run: Run, model: ProgramModel, accounts: InstructionAccount[], depth: number): InvokeContext {
  const programId = model.programId;
  return {
    programId,
    clock: run.clock,
    getAccount: (pk) => run.svm.getAccount(pk),
    setAccountData(pk, data) {
      const meta = accounts.find((a) => a.pubkey.equals(pk));
      const current = run.svm.getAccount(pk);
      if (!meta?.isWritable) throw new ProgramFailure("ReadonlyDataModified");
      if (!current?.owner.equals(programId)) throw new ProgramFailure("ExternalAccountDataModified");
      if (current.data.length !== data.length) throw new ProgramFailure("AccountDataSizeChanged");
      run.svm.setAccount(pk, { ...current, data: Uint8Array.from(data) });
    },
    log: (m) => run.logs.push(`Program log: ${m}`),
    logData: (...chunks) =>
      run.logs.push(`Program data: ${chunks.map((c) => Buffer.from(c).toString("base64")).join(" ")}`),
    invoke(ix, pdaSigners = []) {
      const pdas = new Set(pdaSigners.map((p) => p.toBase58()));
      checkPrivileges(accounts, ix, pdas);
      const signers = new Set([...accounts.filter((a) => a.isSigner).map((a) => a.pubkey.toBase58()), ...pdas]);
      const flagged = ix.keys.map((k) => ({ ...k, isSigner: k.isSigner || signers.has(k.pubkey.toBase58()) }));
      const self = remap(
        run,
        [ix.programId, ...ix.keys.map((k) => k.pubkey)],
        {
          programIdIndex: 0,
          accounts: ix.keys.map((_k, i) => i + 1),
          data: Uint8Array.from(ix.data),
          stackHeight: depth + 1,
        },
        0,
      );
      if (self) run.inner.push(self);
      const callee = run.models.get(ix.programId.toBase58());
      if (callee) runModel(run, callee, flagged, Uint8Array.from(ix.data), depth + 1);
      else runInSvm(run, new TransactionInstruction({ ...ix, keys: flagged }), signers, depth + 1);
    },
    minimumBalance: (len) => run.svm.minimumBalance(len),
    consumeUnits(units) {
      run.units += BigInt(units);
    },
  };
}

/** Runs a model instruction with validator-style logs at `depth`; rethrows ProgramFailure after logging it. */
function runModel(
  run: Run,
  model: ProgramModel,
  accounts: InstructionAccount[],
  data: Uint8Array,
  depth: number,
): void {
  const id = model.programId.toBase58();
  run.logs.push(`Program ${id} invoke [${depth}]`);
  const startUnits = run.units;
  const report = () =>
    run.logs.push(`Program ${id} consumed ${run.units - startUnits} of ${UNITS_PER_INSTRUCTION} compute units`);
  try {
    model.process({ accounts, data }, makeContext(run, model, accounts, depth));
  } catch (e) {
    // A non-ProgramFailure throw is a bug in the model: surface it loudly instead of hiding it in a status.
    if (!(e instanceof ProgramFailure)) console.error(`localnet: program model ${id} threw`, e);
    const failure = e instanceof ProgramFailure ? e : new ProgramFailure("ProgramFailedToComplete", String(e));
    report();
    run.logs.push(`Program ${id} failed: ${describeInstructionError(failure.error)}`);
    throw failure;
  }
  report();
  run.logs.push(`Program ${id} success`);
}

/** Executes every instruction of `tx` in order; stops at the first failure (the caller rolls back). */
export function executeWithModels(
  svm: Svm,
  tx: ParsedTx,
  models: Map<string, ProgramModel>,
  clock: { slot: bigint; unixTimestamp: bigint },
): ExecOutcome {
  const keys = tx.accountKeys;
  const msg = tx.message;
  const outerIndex = new Map(keys.map((k, i) => [k.toBase58(), i] as const));
  const run: Run = { svm, models, outerIndex, clock, logs: [], inner: [], units: 0n };
  const signers = new Set(keys.filter((_k, i) => msg.isAccountSigner(i)).map((k) => k.toBase58()));
  const innerInstructions: ExecOutcome["innerInstructions"] = [];
  let err: TransactionErrorJson | null = null;
  msg.compiledInstructions.forEach((cix, index) => {
    if (err) return;
    const programId = keys[cix.programIdIndex]!;
    const accounts = cix.accountKeyIndexes.map((i) => ({
      pubkey: keys[i]!,
      isSigner: msg.isAccountSigner(i),
      isWritable: msg.isAccountWritable(i),
    }));
    run.inner = [];
    try {
      const model = models.get(programId.toBase58());
      if (model) runModel(run, model, accounts, cix.data, 1);
      else runInSvm(run, toInstruction(programId, accounts, cix.data), signers, 1);
    } catch (e) {
      const error = e instanceof ProgramFailure ? e.error : "ProgramFailedToComplete";
      err = { InstructionError: [index, error] };
    }
    if (run.inner.length > 0) innerInstructions.push({ index, instructions: run.inner });
  });
  return { err, logs: run.logs, innerInstructions, unitsConsumed: run.units };
}
