/**
 * A test program beside the vault model: a minimal "position manager" of the kind an exchange runs, which locks and
 * unlocks collateral by CPI into the vault program with a PDA of its own (seeds ["position_manager"]) as the
 * authority — how a trading program really calls lock_collateral. The localnet runs it at two program ids: one an
 * exchange would put in the authorized list, and one standing for a stranger's program (never listed).
 *
 * Instruction data: tag u8 (0 = lock, 1 = unlock) ‖ amount u64 LE. Accounts: [manager PDA, vault (writable),
 * VaultAuthority, vault program]. Anyone may call it (it models the CPI shape, not a real manager's own checks).
 */
import { PublicKey, TransactionInstruction } from "@solana/web3.js";
import { findVaultAuthorityAddress, lockCollateralIx, unlockCollateralIx } from "../../../src/chain/program/index.ts";
import { ProgramFailure, type ProgramModel } from "../program-model.ts";

/** The position manager an exchange would authorize. */
export const POSITION_MANAGER_PROGRAM_ID = new PublicKey("43CQQ92kTk7WwCAZomU62ajgiWFt69JRgV9ii9vFwoQQ");
/** The same code at another address: a stranger's program, which no exchange lists. */
export const STRANGER_MANAGER_PROGRAM_ID = new PublicKey("2z9egcZLJcLZeN2BXXv4i9Ai3kci9tHVmr6Qf5avHAjf");
export const POSITION_MANAGER_PROGRAM_IDS = [POSITION_MANAGER_PROGRAM_ID, STRANGER_MANAGER_PROGRAM_ID];

const SEED = new TextEncoder().encode("position_manager");

/** The manager's PDA: the authority its CPIs sign with. */
export function positionManagerAuthority(manager: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([SEED], manager)[0];
}

/** An instruction to `manager` that locks (or unlocks) `amount` of `vault` by CPI. */
export function positionManagerIx(p: {
  manager: PublicKey;
  vaultProgram: PublicKey;
  vault: PublicKey;
  action: "lock" | "unlock";
  amount: bigint;
}): TransactionInstruction {
  const data = new Uint8Array(9);
  data[0] = p.action === "lock" ? 0 : 1;
  new DataView(data.buffer).setBigUint64(1, p.amount, true);
  return new TransactionInstruction({
    programId: p.manager,
    keys: [
      { pubkey: positionManagerAuthority(p.manager), isSigner: false, isWritable: false },
      { pubkey: p.vault, isSigner: false, isWritable: true },
      { pubkey: findVaultAuthorityAddress(p.vaultProgram)[0], isSigner: false, isWritable: false },
      { pubkey: p.vaultProgram, isSigner: false, isWritable: false },
    ],
    data: toIxData(data),
  });
}

type IxData = NonNullable<ConstructorParameters<typeof TransactionInstruction>[0]["data"]>;

/** web3.js wants a Buffer; tests in workerd import this builder too, so no Node types are assumed. */
function toIxData(bytes: Uint8Array): IxData {
  const B = (globalThis as { Buffer?: { from(b: Uint8Array): IxData } }).Buffer;
  return B ? B.from(bytes) : (bytes as IxData);
}

/** The position manager model at `programId`, calling the vault program at `vaultProgram`. */
export function createPositionManager(programId: PublicKey, vaultProgram: PublicKey): ProgramModel {
  const authority = positionManagerAuthority(programId);
  return {
    programId,
    process(ix, ctx) {
      ctx.consumeUnits(1_000);
      const [pda, vault] = ix.accounts;
      if (ix.data.length !== 9 || ix.data[0]! > 1 || !pda || !vault) throw new ProgramFailure("InvalidInstructionData");
      if (!pda.pubkey.equals(authority)) throw new ProgramFailure("InvalidArgument");
      const amount = new DataView(ix.data.buffer, ix.data.byteOffset).getBigUint64(1, true);
      const lock = ix.data[0] === 0;
      ctx.log(`Instruction: ${lock ? "OpenPosition" : "ClosePosition"}`);
      const params = { programId: vaultProgram, authority, vault: vault.pubkey, amount };
      ctx.invoke(lock ? lockCollateralIx(params) : unlockCollateralIx(params), [authority]);
    },
  };
}
