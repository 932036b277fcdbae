import { Keypair } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_VAULT_PROGRAM_ID,
  describeProgramError,
  encodeEvent,
  parseProgramEvents,
  programErrorFromTransaction,
  TOKEN_PROGRAM_ID,
  type VaultEvent,
} from "../../src/chain/program/index.ts";

const VAULT = DEFAULT_VAULT_PROGRAM_ID.toBase58();
const TOKEN = TOKEN_PROGRAM_ID.toBase58();
const OTHER = Keypair.generate().publicKey.toBase58();
const key = () => Keypair.generate().publicKey;

const deposit = (amount: bigint): VaultEvent => ({
  name: "DepositEvent",
  data: { user: key(), vault: key(), amount, newBalance: amount, timestamp: 1n },
});
const dataLine = (e: VaultEvent) => `Program data: ${Buffer.from(encodeEvent(e)).toString("base64")}`;
const amounts = (r: ReturnType<typeof parseProgramEvents>) =>
  r.map(({ event, index }) => [event.name === "DepositEvent" ? event.data.amount : -1n, index]);

describe("parseProgramEvents", () => {
  it("keeps our program's event and drops Program data logged by the Token program we invoked", () => {
    const logs = [
      `Program ${VAULT} invoke [1]`,
      "Program log: Instruction: Deposit",
      `Program ${TOKEN} invoke [2]`,
      "Program log: Instruction: Transfer",
      dataLine(deposit(99n)),
      `Program ${TOKEN} consumed 4645 of 190000 compute units`,
      `Program ${TOKEN} success`,
      dataLine(deposit(1n)),
      `Program ${VAULT} consumed 20000 of 200000 compute units`,
      `Program ${VAULT} success`,
    ];
    expect(amounts(parseProgramEvents(logs, VAULT))).toEqual([[1n, 0]]);
  });

  it("counts our events when another program CPIs into ours, but not the caller's own data lines", () => {
    const logs = [
      `Program ${OTHER} invoke [1]`,
      dataLine(deposit(50n)),
      `Program ${VAULT} invoke [2]`,
      dataLine(deposit(2n)),
      `Program ${TOKEN} invoke [3]`,
      dataLine(deposit(51n)),
      `Program ${TOKEN} success`,
      dataLine(deposit(3n)),
      `Program ${VAULT} success`,
      dataLine(deposit(52n)),
      `Program ${OTHER} success`,
      `Program ${VAULT} invoke [1]`,
      dataLine(deposit(4n)),
      `Program ${VAULT} success`,
    ];
    expect(amounts(parseProgramEvents(logs, DEFAULT_VAULT_PROGRAM_ID))).toEqual([
      [2n, 0],
      [3n, 1],
      [4n, 2],
    ]);
  });

  it("names the program that invoked ours for each event, and none for a top-level instruction", () => {
    const logs = [
      `Program ${OTHER} invoke [1]`,
      `Program ${TOKEN} invoke [2]`,
      `Program ${VAULT} invoke [3]`,
      dataLine(deposit(1n)),
      `Program ${VAULT} success`,
      `Program ${TOKEN} success`,
      `Program ${VAULT} invoke [2]`,
      dataLine(deposit(2n)),
      `Program ${VAULT} success`,
      `Program ${OTHER} success`,
      `Program ${VAULT} invoke [1]`,
      dataLine(deposit(3n)),
      `Program ${VAULT} success`,
    ];
    expect(parseProgramEvents(logs, VAULT).map((e) => e.invoker)).toEqual([TOKEN, OTHER, null]);
  });

  it("pops the stack on failed invocations and stops at Log truncated", () => {
    const logs = [
      `Program ${VAULT} invoke [1]`,
      `Program ${TOKEN} invoke [2]`,
      `Program ${TOKEN} failed: custom program error: 0x1`,
      dataLine(deposit(5n)),
      `Program ${VAULT} success`,
      `Program ${VAULT} invoke [1]`,
      dataLine(deposit(6n)),
      "Log truncated",
      dataLine(deposit(7n)),
    ];
    expect(amounts(parseProgramEvents(logs, VAULT))).toEqual([
      [5n, 0],
      [6n, 1],
    ]);
  });

  it("skips malformed or foreign payloads from our program but keeps counting positions", () => {
    const logs = [
      `Program ${VAULT} invoke [1]`,
      "Program data: !!!notbase64",
      "Program data: AAAAAAAAAAA=",
      dataLine(deposit(8n)),
    ];
    expect(amounts(parseProgramEvents(logs, VAULT))).toEqual([[8n, 2]]);
  });
});

describe("error mapping", () => {
  it("describes VaultError codes with their real 12010+ values and Anchor framework codes", () => {
    expect(describeProgramError(12010)).toEqual({
      name: "InsufficientBalance",
      code: 12010,
      message: "Insufficient available balance for this operation",
    });
    expect(describeProgramError(6010)).toBeNull();
    expect(describeProgramError(6000)?.name).toBe("InvalidAmount");
    expect(describeProgramError(12041)?.name).toBe("Underflow");
    expect(describeProgramError(2006)?.name).toBe("ConstraintSeeds");
    expect(describeProgramError(3012)?.message).toBe("The program expected this account to be already initialized");
    expect(describeProgramError(101)?.name).toBe("InstructionFallbackNotFound");
  });

  it("maps an RPC InstructionError with a custom code, preferring the AnchorError log line", () => {
    const logs = [
      `Program ${VAULT} invoke [1]`,
      "Program log: Instruction: Withdraw",
      "Program log: AnchorError thrown in programs/collateral-vault/src/instructions/withdraw.rs:64. Error Code: InsufficientBalance. Error Number: 12010. Error Message: Insufficient available balance for this operation.",
      `Program ${VAULT} failed: custom program error: 0x2eea`,
    ];
    expect(programErrorFromTransaction({ InstructionError: [1, { Custom: 12010 }] }, logs)).toEqual({
      instructionIndex: 1,
      code: 12010,
      name: "InsufficientBalance",
      message: "Insufficient available balance for this operation",
    });
    const seeds =
      "Program log: AnchorError caused by account: vault. Error Code: ConstraintSeeds. Error Number: 2006. Error Message: A seeds constraint was violated.";
    expect(programErrorFromTransaction({ InstructionError: [0, { Custom: 2006 }] }, [seeds])?.name).toBe(
      "ConstraintSeeds",
    );
  });

  it("falls back to the tables without logs and keeps runtime error names", () => {
    expect(programErrorFromTransaction({ InstructionError: [2, { Custom: 12032 }] })?.name).toBe("VaultPaused");
    expect(programErrorFromTransaction({ InstructionError: [0, { Custom: 1 }] })?.name).toBe("Custom1");
    expect(programErrorFromTransaction({ InstructionError: [0, "MissingRequiredSignature"] })).toEqual({
      instructionIndex: 0,
      name: "MissingRequiredSignature",
      message: "MissingRequiredSignature",
    });
    expect(programErrorFromTransaction("AccountNotFound")).toBeNull();
    expect(programErrorFromTransaction(null)).toBeNull();
  });
});
