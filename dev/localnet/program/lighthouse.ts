/**
 * A stand-in for the Lighthouse assertion program (L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95), which Phantom and
 * Solflare append to mainnet transactions before signing: the wallet asserts the accounts' state after the
 * transaction (balances, owners…), and the transaction fails if it differs from the simulated one. Here every
 * assertion passes — the localnet needs the program to exist and behave like one (invoke/consume/success log
 * lines), so tests can send what real wallets send. Empty data fails to deserialize, as on chain.
 */
import { PublicKey } from "@solana/web3.js";
import type { ProgramModel } from "../program-model.ts";
import { ProgramFailure } from "../program-model.ts";

export const LIGHTHOUSE_PROGRAM_ID = new PublicKey("L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95");

/** Lighthouse's instruction names by their one-byte discriminator (for the log line). */
const NAMES = [
  "MemoryWrite",
  "MemoryClose",
  "AssertAccountData",
  "AssertAccountDelta",
  "AssertAccountInfo",
  "AssertAccountInfoMulti",
  "AssertMintAccount",
  "AssertMintAccountMulti",
  "AssertTokenAccount",
  "AssertTokenAccountMulti",
  "AssertStakeAccount",
  "AssertStakeAccountMulti",
  "AssertUpgradeableLoaderAccount",
  "AssertUpgradeableLoaderAccountMulti",
  "AssertSysvarClock",
  "AssertMerkleTreeAccount",
  "AssertBubblegumTreeConfigAccount",
];

/** The Lighthouse stand-in, registered by the localnet beside the vault program model. */
export function createLighthouseProgram(): ProgramModel {
  return {
    programId: LIGHTHOUSE_PROGRAM_ID,
    process(ix, ctx) {
      const name = ix.data.length > 0 ? NAMES[ix.data[0]!] : undefined;
      if (!name) throw new ProgramFailure("InvalidInstructionData");
      ctx.log(`Instruction: ${name}`);
      ctx.consumeUnits(1_200);
    },
  };
}
