/**
 * The contract between the localnet's execution engine (engine.ts) and a program written in TypeScript
 * (the vault program model, program/vault.ts). LiteSVM cannot host JavaScript programs, so the engine runs
 * the model itself and executes the model's CPIs (System, SPL Token, ATA) in LiteSVM.
 */
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";

/** An account as the model sees it inside the running transaction. */
export interface AccountState {
  lamports: bigint;
  owner: PublicKey;
  data: Uint8Array;
  executable: boolean;
}

/** One entry of an instruction's account list, with the flags of the outer message. */
export interface InstructionAccount {
  pubkey: PublicKey;
  isSigner: boolean;
  isWritable: boolean;
}

/**
 * An instruction error in the JSON shape the RPC reports inside `InstructionError: [index, error]`,
 * e.g. `{ Custom: 6000 }`, `"MissingRequiredSignature"`, `"InvalidAccountData"`.
 */
export type InstructionErrorJson = { Custom: number } | string;

/** Thrown by a model (or by `invoke`) to fail the current instruction. */
export class ProgramFailure extends Error {
  readonly error: InstructionErrorJson;
  constructor(error: InstructionErrorJson, message?: string) {
    super(message ?? JSON.stringify(error));
    this.error = error;
  }
}

/** What the engine gives a program model while one of its instructions runs. */
export interface InvokeContext {
  readonly programId: PublicKey;
  /** Clock sysvar of the slot the transaction executes in. */
  readonly clock: { slot: bigint; unixTimestamp: bigint };
  /** Current state inside the transaction (sees earlier writes and CPIs); null when the account does not exist. */
  getAccount(pubkey: PublicKey): AccountState | null;
  /** Replace the data of an account this program owns (length must not change); the engine checks writability. */
  setAccountData(pubkey: PublicKey, data: Uint8Array): void;
  /** `msg!`: the engine writes `Program log: <message>`. */
  log(message: string): void;
  /** `sol_log_data` (what Anchor's `emit!` uses): the engine writes `Program data: <base64 chunks>`. */
  logData(...chunks: Uint8Array[]): void;
  /**
   * Cross-program invocation, executed by the real program in LiteSVM. `pdaSigners` are PDAs of this program
   * that sign by seeds (invoke_signed). Signer flags of the caller's accounts carry over. On failure throws a
   * ProgramFailure carrying the callee's error; the callee's log lines are nested one level deeper.
   */
  invoke(ix: TransactionInstruction, pdaSigners?: PublicKey[]): void;
  /** Rent-exempt minimum for an account of `dataLen` bytes. */
  minimumBalance(dataLen: number): bigint;
  /** Charge compute units (the engine reports `consumed N of M compute units`). */
  consumeUnits(units: number): void;
}

/** A program implemented in TypeScript and executed by the engine. */
export interface ProgramModel {
  readonly programId: PublicKey;
  /** Run one instruction. Return normally on success; throw ProgramFailure on failure. */
  process(ix: { accounts: InstructionAccount[]; data: Uint8Array }, ctx: InvokeContext): void;
}
