/**
 * The vault program's cross-program invocations, always through `ctx.invoke` so the REAL System, ATA and SPL
 * Token programs (in LiteSVM) do the work and produce the errors.
 */
import { createTransferInstruction } from "@solana/spl-token";
import { type PublicKey, SystemProgram, TransactionInstruction } from "@solana/web3.js";
import { ASSOCIATED_TOKEN_PROGRAM_ID, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../../src/chain/program/index.ts";
import { findProgramAddress } from "../pda.ts";
import type { InvokeContext } from "../program-model.ts";
import { AnchorFailure, checkMut, type Loaded } from "./anchor.ts";

/**
 * Anchor's `init` of a PDA account: seeds check (canonical bump), then System create_account signed by the PDA
 * or, when the address already holds lamports, transfer + allocate + assign. An account already in use makes the
 * System program fail (custom 0x0). Returns the canonical bump.
 */
export function initPdaAccount(
  ctx: InvokeContext,
  f: Loaded,
  payer: PublicKey,
  seeds: Uint8Array[],
  space: number,
): number {
  const [pda, bump] = findProgramAddress(seeds, ctx.programId);
  ctx.consumeUnits(1_500 * (256 - bump)); // find_program_address charges one create_program_address per try
  if (!pda.equals(f.key)) throw new AnchorFailure("ConstraintSeeds", { account: f.name }, [f.key, pda]);
  const current = ctx.getAccount(f.key)?.lamports ?? 0n;
  const rent = ctx.minimumBalance(space);
  const programId = ctx.programId;
  if (current === 0n) {
    ctx.invoke(
      SystemProgram.createAccount({
        fromPubkey: payer,
        newAccountPubkey: f.key,
        lamports: Number(rent),
        space,
        programId,
      }),
      [f.key],
    );
  } else {
    if (payer.equals(f.key)) throw new AnchorFailure("TryingToInitPayerAsProgramAccount", null, [payer, f.key]);
    const required = (rent > 1n ? rent : 1n) - current;
    if (required > 0n) {
      ctx.invoke(SystemProgram.transfer({ fromPubkey: payer, toPubkey: f.key, lamports: Number(required) }));
    }
    ctx.invoke(SystemProgram.allocate({ accountPubkey: f.key, space }), [f.key]);
    ctx.invoke(SystemProgram.assign({ accountPubkey: f.key, programId }), [f.key]);
  }
  checkMut(f);
  return bump;
}

/**
 * anchor-spl's `associated_token::create`: the ATA program's NON-idempotent Create (instruction 0). It fails when
 * the ATA already exists, whoever created it (spec §8.4).
 */
export function createAssociatedTokenAccount(
  ctx: InvokeContext,
  p: { payer: PublicKey; ata: PublicKey; wallet: PublicKey; mint: PublicKey },
): void {
  const ix = new TransactionInstruction({
    programId: ASSOCIATED_TOKEN_PROGRAM_ID,
    keys: [
      { pubkey: p.payer, isSigner: true, isWritable: true },
      { pubkey: p.ata, isSigner: false, isWritable: true },
      { pubkey: p.wallet, isSigner: false, isWritable: false },
      { pubkey: p.mint, isSigner: false, isWritable: false },
      { pubkey: SYSTEM_PROGRAM_ID, isSigner: false, isWritable: false },
      { pubkey: TOKEN_PROGRAM_ID, isSigner: false, isWritable: false },
    ],
    data: Buffer.from([0]),
  });
  ctx.invoke(ix);
}

/** anchor-spl `token::transfer` (plain Transfer, not TransferChecked); `pdaSigner` signs by seeds when given. */
export function tokenTransfer(
  ctx: InvokeContext,
  p: { from: PublicKey; to: PublicKey; authority: PublicKey; amount: bigint; pdaSigner?: PublicKey },
): void {
  const ix = createTransferInstruction(p.from, p.to, p.authority, p.amount, [], TOKEN_PROGRAM_ID);
  ctx.invoke(ix, p.pdaSigner ? [p.pdaSigner] : []);
}
