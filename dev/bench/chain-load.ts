import { Keypair, type PublicKey, SystemProgram } from "@solana/web3.js";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
  lockCollateralIx,
  unlockCollateralIx,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import type { Localnet } from "../localnet/index.ts";

/** What initialize_vault costs the user: the vault's and its ATA's rent, plus a rent-exempt remainder. */
const VAULT_CREATION_LAMPORTS = 1_733_040n + 2_039_280n + 1_000_000n;
/** Four wallets per transaction: the most that fits in 1,232 bytes with their rent transfers. */
const VAULTS_PER_TX = 4;

export interface LoadedChain {
  owners: Keypair[];
  vaults: PublicKey[];
  /** Owners with USDT in their vault and 1,000 USDT left in their wallet (WebSocket and build figures). */
  funded: Keypair[];
  programTransactions: number;
}

/**
 * Loads the chain in-process (the engine, not JSON-RPC): `vaults` vaults, 4 per transaction, then `funded` of them
 * given USDT and a deposit, then lock/unlock pairs by an arbitrary signer until the program has exactly `backlog`
 * transactions in its history.
 */
export async function loadChain(localnet: Localnet, opts: { vaults: number; funded: number; backlog: number }) {
  const { chain, programId, usdtMint } = localnet;
  const check = (r: ReturnType<typeof chain.submit>) => {
    if (r.meta.err) throw new Error(`load failed: ${JSON.stringify(r.meta.err)} ${r.meta.logMessages.join(" | ")}`);
  };
  const funder = Keypair.generate();
  chain.airdrop(funder.publicKey, BigInt(opts.vaults) * VAULT_CREATION_LAMPORTS + 10_000_000_000n);
  const owners: Keypair[] = [];
  let programTransactions = 0;
  for (let i = 0; i < opts.vaults; i += VAULTS_PER_TX) {
    const users = Array.from({ length: Math.min(VAULTS_PER_TX, opts.vaults - i) }, () => Keypair.generate());
    const ixs = users.flatMap((u) => [
      SystemProgram.transfer({
        fromPubkey: funder.publicKey,
        toPubkey: u.publicKey,
        lamports: VAULT_CREATION_LAMPORTS,
      }),
      initializeVaultIx({ programId, user: u.publicKey, mint: usdtMint }),
    ]);
    check(chain.submit(ixs, [funder, ...users]));
    programTransactions++;
    owners.push(...users);
  }
  const funded = owners.slice(0, opts.funded);
  for (const owner of funded) {
    await localnet.fund(owner.publicKey, { lamports: 1_000_000_000n, usdt: 1_010_000_000n });
    const [vault] = findVaultAddress(programId, owner.publicKey);
    const vaultToken = vaultTokenAccountAddress(vault, usdtMint);
    const userToken = associatedTokenAddress(owner.publicKey, usdtMint);
    const ix = depositIx({
      programId,
      user: owner.publicKey,
      userTokenAccount: userToken,
      vaultTokenAccount: vaultToken,
      amount: 10_000_000n,
    });
    check(chain.submit([ix], [owner]));
    programTransactions++;
  }
  const signer = Keypair.generate();
  chain.airdrop(signer.publicKey, 100_000_000_000n);
  for (let i = 0; programTransactions < opts.backlog; i++) {
    // Pairs on one vault: lock an amount, then unlock the same amount.
    const pair = Math.floor(i / 2);
    const owner = funded[pair % funded.length]!;
    const [vault] = findVaultAddress(programId, owner.publicKey);
    const lock = i % 2 === 0;
    const amount = 1_000n + BigInt(pair % 1_000);
    const ix = (lock ? lockCollateralIx : unlockCollateralIx)({
      programId,
      authority: signer.publicKey,
      vault,
      amount,
    });
    check(chain.submit([ix], [signer]));
    programTransactions++;
  }
  return {
    owners,
    vaults: owners.map((o) => findVaultAddress(programId, o.publicKey)[0]),
    funded,
    programTransactions,
  } satisfies LoadedChain;
}
