/** Shared handler helpers: checked u64 math, error origins and account write-back. */
import type { PublicKey } from "@solana/web3.js";
import { type CollateralVault, encodeCollateralVault, U64_MAX } from "../../../src/chain/program/index.ts";
import type { InvokeContext } from "../program-model.ts";
import { AnchorFailure, type ErrorOrigin } from "./anchor.ts";

/**
 * The origin `require!`/`err!` report: a file of the program's source. The line numbers are plausible placeholders
 * (the real ones depend on the Rust source's formatting); clients should match on the error code/name only.
 */
export function source(file: string, line: number): ErrorOrigin {
  return { source: `programs/collateral-vault/src/instructions/${file}.rs:${line}` };
}

/** `checked_add(..).ok_or(VaultError::Overflow)?`: converted by `?`, so the error has no origin. */
export function add(a: bigint, b: bigint): bigint {
  const r = a + b;
  if (r > U64_MAX) throw new AnchorFailure("Overflow", null);
  return r;
}

/** `checked_sub(..).ok_or(VaultError::Underflow)?`. */
export function sub(a: bigint, b: bigint): bigint {
  const r = a - b;
  if (r < 0n) throw new AnchorFailure("Underflow", null);
  return r;
}

/** Anchor's `exit` for a `mut` Account<CollateralVault>: re-serializes the in-memory copy over the account. */
export function writeVault(ctx: InvokeContext, key: PublicKey, v: CollateralVault): void {
  ctx.setAccountData(key, encodeCollateralVault(v));
}
