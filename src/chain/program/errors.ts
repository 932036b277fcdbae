/** Error codes of the vault program (spec §5) and the Anchor framework errors it can raise (spec §4.9). */

export interface ProgramErrorInfo {
  name: string;
  code: number;
  message: string;
}

const entry = (name: string, code: number, message: string): ProgramErrorInfo => ({ name, code, message });

/**
 * `VaultError` with the REAL on-chain codes: explicit enum discriminants get Anchor's +6000 offset on top
 * (InsufficientBalance = 6010 → 12010 …), spec §5 / §8.6.
 */
export const VAULT_ERRORS = {
  InvalidAmount: entry("InvalidAmount", 6000, "Amount must be greater than zero"),
  BelowMinimumDeposit: entry("BelowMinimumDeposit", 6001, "Amount is below minimum deposit requirement"),
  InvalidTokenMint: entry("InvalidTokenMint", 6002, "Invalid token mint - only USDT is accepted"),
  InsufficientBalance: entry("InsufficientBalance", 12010, "Insufficient available balance for this operation"),
  HasOpenPositions: entry(
    "HasOpenPositions",
    12011,
    "Cannot withdraw - you have open positions. Close positions first.",
  ),
  InsufficientLockedBalance: entry(
    "InsufficientLockedBalance",
    12012,
    "Cannot unlock more collateral than is currently locked",
  ),
  BalanceMismatch: entry(
    "BalanceMismatch",
    12013,
    "Vault balance mismatch - actual token balance differs from recorded balance",
  ),
  Unauthorized: entry("Unauthorized", 12020, "You are not authorized to perform this action on this vault"),
  UnauthorizedProgram: entry(
    "UnauthorizedProgram",
    12021,
    "Calling program is not authorized to lock/unlock collateral",
  ),
  NotAdmin: entry("NotAdmin", 12022, "Only admin can perform this action"),
  MaxAuthorizedProgramsReached: entry(
    "MaxAuthorizedProgramsReached",
    12023,
    "Maximum number of authorized programs reached (10)",
  ),
  VaultAlreadyExists: entry("VaultAlreadyExists", 12030, "Vault already exists for this user"),
  VaultNotFound: entry("VaultNotFound", 12031, "Vault does not exist - initialize first"),
  VaultPaused: entry("VaultPaused", 12032, "Vault system is currently paused"),
  Overflow: entry("Overflow", 12040, "Arithmetic overflow - this should never happen"),
  Underflow: entry("Underflow", 12041, "Arithmetic underflow - this should never happen"),
} as const;

export type VaultErrorName = keyof typeof VAULT_ERRORS;

/** Anchor 0.32 framework errors the program can return, with Anchor's own names and messages. */
export const ANCHOR_ERRORS = {
  InstructionFallbackNotFound: entry("InstructionFallbackNotFound", 101, "Fallback functions are not supported"),
  InstructionDidNotDeserialize: entry(
    "InstructionDidNotDeserialize",
    102,
    "The program could not deserialize the given instruction",
  ),
  ConstraintMut: entry("ConstraintMut", 2000, "A mut constraint was violated"),
  ConstraintRaw: entry("ConstraintRaw", 2003, "A raw constraint was violated"),
  ConstraintSeeds: entry("ConstraintSeeds", 2006, "A seeds constraint was violated"),
  ConstraintRentExempt: entry("ConstraintRentExempt", 2005, "A rent exemption constraint was violated"),
  AccountDiscriminatorNotFound: entry(
    "AccountDiscriminatorNotFound",
    3001,
    "No discriminator was found on the account",
  ),
  AccountDiscriminatorMismatch: entry(
    "AccountDiscriminatorMismatch",
    3002,
    "Account discriminator did not match what was expected",
  ),
  AccountDidNotDeserialize: entry("AccountDidNotDeserialize", 3003, "Failed to deserialize the account"),
  AccountNotEnoughKeys: entry("AccountNotEnoughKeys", 3005, "Not enough account keys given to the instruction"),
  AccountOwnedByWrongProgram: entry(
    "AccountOwnedByWrongProgram",
    3007,
    "The given account is owned by a different program than expected",
  ),
  InvalidProgramId: entry("InvalidProgramId", 3008, "Program ID was not as expected"),
  InvalidProgramExecutable: entry("InvalidProgramExecutable", 3009, "Program account is not executable"),
  AccountNotSigner: entry("AccountNotSigner", 3010, "The given account did not sign"),
  AccountNotInitialized: entry(
    "AccountNotInitialized",
    3012,
    "The program expected this account to be already initialized",
  ),
  TryingToInitPayerAsProgramAccount: entry(
    "TryingToInitPayerAsProgramAccount",
    4101,
    "You cannot/should not initialize the payer account as a program account",
  ),
} as const;

export type AnchorErrorName = keyof typeof ANCHOR_ERRORS;

const BY_CODE = new Map<number, ProgramErrorInfo>(
  [...Object.values(VAULT_ERRORS), ...Object.values(ANCHOR_ERRORS)].map((e) => [e.code, e]),
);

/** Name and message of a vault-program or Anchor error code; null when the code is not one of ours. */
export function describeProgramError(code: number): ProgramErrorInfo | null {
  return BY_CODE.get(code) ?? null;
}

const ANCHOR_LOG =
  /^Program log: AnchorError (?:caused by account: \S+|occurred|thrown in \S+)\. Error Code: (\w+)\. Error Number: (\d+)\. Error Message: (.*)\.$/;

/** The AnchorError reported in the logs, if any (the last one wins: it is the one that failed the tx). */
export function anchorErrorFromLogs(logs: readonly string[]): ProgramErrorInfo | null {
  let found: ProgramErrorInfo | null = null;
  for (const line of logs) {
    const m = ANCHOR_LOG.exec(line);
    if (m) found = { name: m[1]!, code: Number(m[2]), message: m[3]! };
  }
  return found;
}

export interface TransactionProgramError {
  instructionIndex: number;
  /** The custom error code when the instruction failed with `{ Custom: n }`. */
  code?: number;
  name: string;
  message: string;
}

/**
 * Interprets RPC `meta.err` (e.g. `{ InstructionError: [1, { Custom: 12010 }] }`); the name comes from an
 * `AnchorError … Error Number: n` log line when one matches, else from our tables. Null when `err` is not an
 * instruction error. Non-custom errors (e.g. "MissingRequiredSignature") keep the runtime's name.
 */
export function programErrorFromTransaction(err: unknown, logs?: readonly string[]): TransactionProgramError | null {
  if (typeof err !== "object" || err === null || !("InstructionError" in err)) return null;
  const pair = (err as { InstructionError: unknown }).InstructionError;
  if (!Array.isArray(pair) || typeof pair[0] !== "number") return null;
  const [instructionIndex, inner] = pair as [number, unknown];
  if (typeof inner === "string") return { instructionIndex, name: inner, message: inner };
  if (typeof inner !== "object" || inner === null) return null;
  const custom = (inner as { Custom?: unknown }).Custom;
  if (typeof custom !== "number") {
    const name = Object.keys(inner)[0] ?? "Unknown";
    return { instructionIndex, name, message: JSON.stringify(inner) };
  }
  const fromLogs = logs ? anchorErrorFromLogs(logs) : null;
  if (fromLogs && fromLogs.code === custom)
    return { instructionIndex, code: custom, name: fromLogs.name, message: fromLogs.message };
  const known = describeProgramError(custom);
  if (known) return { instructionIndex, code: custom, name: known.name, message: known.message };
  return {
    instructionIndex,
    code: custom,
    name: `Custom${custom}`,
    message: `custom program error: 0x${custom.toString(16)}`,
  };
}
