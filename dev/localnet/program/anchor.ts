/**
 * What Anchor 0.32.1 generates around the vault program's handlers: account loading (`try_accounts`), constraint
 * checks and the error log lines. Only the behaviour the vault program's account structs exercise is modelled.
 */
import { PublicKey } from "@solana/web3.js";
import {
  AccountDecodeError,
  ANCHOR_ERRORS,
  type AnchorErrorName,
  type CollateralVault,
  decodeCollateralVault,
  decodeVaultAuthority,
  SYSTEM_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  VAULT_ERRORS,
  type VaultAuthority,
  type VaultErrorName,
} from "../../../src/chain/program/index.ts";
import { createProgramAddress } from "../pda.ts";
import type { AccountState, InstructionAccount, InvokeContext } from "../program-model.ts";
import { ProgramFailure } from "../program-model.ts";

/** Where Anchor says an error came from: an account field, a source line (`require!`/`err!`), or nowhere (`?`). */
export type ErrorOrigin = { account: string } | { source: string } | null;

/** An `anchor_lang::error::AnchorError` on its way out of the program. */
export class AnchorFailure extends Error {
  readonly errorName: string;
  readonly code: number;
  readonly errorMessage: string;
  readonly origin: ErrorOrigin;
  readonly pubkeys: [PublicKey, PublicKey] | null;
  constructor(name: AnchorErrorName | VaultErrorName, origin: ErrorOrigin, pubkeys?: [PublicKey, PublicKey]) {
    const info = name in VAULT_ERRORS ? VAULT_ERRORS[name as VaultErrorName] : ANCHOR_ERRORS[name as AnchorErrorName];
    super(`${info.name} (${info.code})`);
    this.errorName = info.name;
    this.code = info.code;
    this.errorMessage = info.message;
    this.origin = origin;
    this.pubkeys = pubkeys ?? null;
  }
}

/** A Solana `ProgramError` (not an AnchorError) raised while loading an account, e.g. SPL `unpack` failures. */
export class ProgramErrorFailure extends Error {
  readonly error: "InvalidAccountData" | "UninitializedAccount";
  readonly account: string;
  constructor(error: "InvalidAccountData" | "UninitializedAccount", account: string) {
    super(error);
    this.error = error;
    this.account = account;
  }
}

const PROGRAM_ERROR_TEXT = {
  InvalidAccountData: { number: 4n << 32n, message: "An account's data contents was invalid" },
  UninitializedAccount: {
    number: 10n << 32n,
    message: "An attempt to operate on an account that hasn't been initialized",
  },
};

/** Writes the lines `AnchorError::log` / `ProgramErrorWithOrigin::log` write, then fails the instruction. */
export function failWithLogs(ctx: InvokeContext, e: AnchorFailure | ProgramErrorFailure): never {
  if (e instanceof ProgramErrorFailure) {
    const t = PROGRAM_ERROR_TEXT[e.error];
    ctx.log(
      `ProgramError caused by account: ${e.account}. Error Code: ${e.error}. Error Number: ${t.number}. Error Message: ${t.message}.`,
    );
    throw new ProgramFailure(e.error);
  }
  const tail = `Error Code: ${e.errorName}. Error Number: ${e.code}. Error Message: ${e.errorMessage}.`;
  if (e.origin === null) ctx.log(`AnchorError occurred. ${tail}`);
  else if ("account" in e.origin) ctx.log(`AnchorError caused by account: ${e.origin.account}. ${tail}`);
  else ctx.log(`AnchorError thrown in ${e.origin.source}. ${tail}`);
  if (e.pubkeys) {
    // ComparedValues::Pubkeys: `msg!("Left:")`, `sol_log_pubkey`, `msg!("Right:")`, `sol_log_pubkey`.
    ctx.log("Left:");
    ctx.log(e.pubkeys[0].toBase58());
    ctx.log("Right:");
    ctx.log(e.pubkeys[1].toBase58());
  }
  throw new ProgramFailure({ Custom: e.code });
}

/** A loaded account field: its entry in the instruction and the state it had when loaded. */
export interface Loaded {
  name: string;
  meta: InstructionAccount;
  key: PublicKey;
}

/** Reads the instruction's accounts in struct order, as `try_accounts` consumes its slice. */
export class AccountCursor {
  private readonly accounts: InstructionAccount[];
  private readonly ctx: InvokeContext;
  private next = 0;

  constructor(accounts: InstructionAccount[], ctx: InvokeContext) {
    this.accounts = accounts;
    this.ctx = ctx;
  }

  /** Next account; 3005 (named for typed fields, unnamed for `init` fields whose AccountInfo is taken raw). */
  take(name: string, named = true): Loaded {
    const meta = this.accounts[this.next];
    if (!meta) throw new AnchorFailure("AccountNotEnoughKeys", named ? { account: name } : null);
    this.next++;
    this.ctx.consumeUnits(350); // plausible per-account deserialization cost
    return { name, meta, key: meta.pubkey };
  }

  /** `Signer<'info>`: 3010 unless the account signed. */
  signer(name: string): Loaded {
    const f = this.take(name);
    if (!f.meta.isSigner) throw new AnchorFailure("AccountNotSigner", { account: name });
    return f;
  }

  /** `Program<'info, T>`: 3008 unless the key is the expected program id. */
  program(name: string, expected: PublicKey): Loaded {
    const f = this.take(name);
    if (!f.key.equals(expected)) throw new AnchorFailure("InvalidProgramId", { account: name }, [f.key, expected]);
    return f;
  }

  /** `Account<'info, T>`'s `try_from`: uninitialized 3012, owner 3007, then the data (returned for decoding). */
  owned(name: string, owner: PublicKey): Loaded & { data: Uint8Array } {
    const f = this.take(name);
    const state: AccountState | null = this.ctx.getAccount(f.key);
    if (!state || (state.owner.equals(SYSTEM_PROGRAM_ID) && state.lamports === 0n)) {
      throw new AnchorFailure("AccountNotInitialized", { account: name });
    }
    if (!state.owner.equals(owner)) {
      throw new AnchorFailure("AccountOwnedByWrongProgram", { account: name }, [state.owner, owner]);
    }
    return { ...f, data: state.data };
  }

  /** `Account<'info, CollateralVault>`. */
  vault(name: string): Loaded & { value: CollateralVault } {
    const f = this.owned(name, this.ctx.programId);
    return { ...f, value: decodeAnchorAccount(name, f.data, decodeCollateralVault) };
  }

  /** `Account<'info, VaultAuthority>`. */
  authority(name: string): Loaded & { value: VaultAuthority; data: Uint8Array } {
    const f = this.owned(name, this.ctx.programId);
    return { ...f, value: decodeAnchorAccount(name, f.data, decodeVaultAuthority) };
  }

  /** `Account<'info, TokenAccount>` (classic SPL Token only: `Account::unpack`). */
  tokenAccount(name: string): Loaded & { mint: PublicKey; owner: PublicKey; amount: bigint } {
    const f = this.owned(name, TOKEN_PROGRAM_ID);
    const state = f.data[108];
    if (f.data.length !== 165 || state === undefined || state > 2)
      throw new ProgramErrorFailure("InvalidAccountData", name);
    if (state === 0) throw new ProgramErrorFailure("UninitializedAccount", name);
    const view = new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    return {
      ...f,
      mint: new PublicKey(f.data.slice(0, 32)),
      owner: new PublicKey(f.data.slice(32, 64)),
      amount: view.getBigUint64(64, true),
    };
  }

  /** `Account<'info, Mint>` (classic SPL Token only). */
  mint(name: string): Loaded {
    const f = this.owned(name, TOKEN_PROGRAM_ID);
    const initialized = f.data[45];
    if (f.data.length !== 82 || initialized === undefined || initialized > 1) {
      throw new ProgramErrorFailure("InvalidAccountData", name);
    }
    if (initialized === 0) throw new ProgramErrorFailure("UninitializedAccount", name);
    return f;
  }
}

/** The `#[account]` `try_deserialize`: 3001 too short, 3002 wrong discriminator, 3003 bad body. */
function decodeAnchorAccount<T>(name: string, data: Uint8Array, decode: (d: Uint8Array) => T): T {
  try {
    return decode(data);
  } catch (e) {
    if (!(e instanceof AccountDecodeError)) throw e;
    if (e.reason === "too-short") throw new AnchorFailure("AccountDiscriminatorNotFound", { account: name });
    if (e.reason === "discriminator-mismatch") {
      throw new AnchorFailure("AccountDiscriminatorMismatch", { account: name });
    }
    throw new AnchorFailure("AccountDidNotDeserialize", { account: name });
  }
}

/** `mut`: 2000 unless the account is writable in the instruction. */
export function checkMut(f: Loaded): void {
  if (!f.meta.isWritable) throw new AnchorFailure("ConstraintMut", { account: f.name });
}

/** `seeds = [...], bump = <stored>`: create_program_address with the stored bump; 2006 on any mismatch. */
export function checkSeeds(f: Loaded, seeds: Uint8Array[], bump: number, ctx: InvokeContext): void {
  ctx.consumeUnits(1_500); // the create_program_address syscall's cost
  const pda = createProgramAddress([...seeds, Uint8Array.of(bump)], ctx.programId);
  if (!pda) throw new AnchorFailure("ConstraintSeeds", { account: f.name });
  if (!pda.equals(f.key)) throw new AnchorFailure("ConstraintSeeds", { account: f.name }, [f.key, pda]);
}

/** `constraint = <cond> @ VaultError::X`: the custom error, attributed to the field. */
export function checkConstraint(f: Loaded, ok: boolean, error: VaultErrorName): void {
  if (!ok) throw new AnchorFailure(error, { account: f.name });
}
