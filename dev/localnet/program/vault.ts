/**
 * A faithful TypeScript model of the collateral-vault program (shared/vault-program.md), bugs of §8 included,
 * executed by the localnet engine. All bytes go through the backend's codec (src/chain/program).
 */
import type { PublicKey } from "@solana/web3.js";
import {
  BorshError,
  decodeInstructionArgs,
  identifyVaultInstruction,
  type TransferReason,
  type VaultInstructionDecodedName,
} from "../../../src/chain/program/index.ts";
import type { InstructionAccount, InvokeContext, ProgramModel } from "../program-model.ts";
import { AnchorFailure, failWithLogs, ProgramErrorFailure } from "./anchor.ts";
import {
  addAuthorizedProgram,
  initializeVault,
  initializeVaultAuthority,
  removeAuthorizedProgram,
  setPaused,
} from "./handlers-admin.ts";
import { deposit, lockCollateral, unlockCollateral, withdraw } from "./handlers-funds.ts";
import { transferCollateral } from "./transfer.ts";

type Args = Record<string, unknown>;
type Amount = { amount: bigint };
type Handler = (accounts: InstructionAccount[], args: Args, ctx: InvokeContext) => void;

// Args come from decodeInstructionArgs, whose shape per instruction name is fixed; only they are cast.
const HANDLERS: Record<VaultInstructionDecodedName, Handler> = {
  initializeVault: (accounts, _args, ctx) => initializeVault(accounts, ctx),
  initializeVaultAuthority: (accounts, _args, ctx) => initializeVaultAuthority(accounts, ctx),
  addAuthorizedProgram: (accounts, args, ctx) => addAuthorizedProgram(accounts, args as { programId: PublicKey }, ctx),
  removeAuthorizedProgram: (accounts, args, ctx) =>
    removeAuthorizedProgram(accounts, args as { programId: PublicKey }, ctx),
  setPaused: (accounts, args, ctx) => setPaused(accounts, args as { isPaused: boolean }, ctx),
  deposit: (accounts, args, ctx) => deposit(accounts, args as Amount, ctx),
  withdraw: (accounts, args, ctx) => withdraw(accounts, args as Amount, ctx),
  lockCollateral: (accounts, args, ctx) => lockCollateral(accounts, args as Amount, ctx),
  unlockCollateral: (accounts, args, ctx) => unlockCollateral(accounts, args as Amount, ctx),
  transferCollateral: (accounts, args, ctx) =>
    transferCollateral(accounts, args as { amount: bigint; reason: TransferReason }, ctx),
};

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * Anchor's entrypoint + dispatch. Short data or an unknown discriminator → 101 (Anchor 0.30+ dispatches by
 * prefix and falls through to InstructionFallbackNotFound; the built-in IDL instructions are not modelled).
 * The handler logs `Instruction: <Name>` before its args are deserialized, so a 102 comes after that line.
 */
function run(ix: { accounts: InstructionAccount[]; data: Uint8Array }, ctx: InvokeContext): void {
  ctx.consumeUnits(800);
  const name = identifyVaultInstruction(ix.data);
  if (name === null) throw new AnchorFailure("InstructionFallbackNotFound", null);
  ctx.log(`Instruction: ${pascal(name)}`);
  let args: Record<string, unknown>;
  try {
    args = decodeInstructionArgs(name, ix.data);
  } catch (e) {
    if (e instanceof BorshError) throw new AnchorFailure("InstructionDidNotDeserialize", null);
    throw e;
  }
  HANDLERS[name](ix.accounts, args, ctx);
}

/** The vault program model at `programId`. */
export function createVaultProgram(programId: PublicKey): ProgramModel {
  return {
    programId,
    process(ix, ctx) {
      try {
        run(ix, ctx);
      } catch (e) {
        // CPI failures (ProgramFailure from ctx.invoke) abort the transaction as they are; only the program's
        // own errors get Anchor's log line.
        if (e instanceof AnchorFailure || e instanceof ProgramErrorFailure) failWithLogs(ctx, e);
        throw e;
      }
    },
  };
}
