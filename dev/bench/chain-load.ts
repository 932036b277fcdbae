import { Keypair, type PublicKey, SystemProgram } from "@solana/web3.js";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
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
    check(chain.submit([depositFor(localnet, owner, 10_000_000n)], [owner]));
    programTransactions++;
  }
  // The backlog: small deposits by the funded owners (the most common program transaction).
  for (let i = 0; programTransactions < opts.backlog; i++) {
    const owner = funded[i % funded.length]!;
    check(chain.submit([depositFor(localnet, owner, 1_000n + BigInt(i % 1_000))], [owner]));
    programTransactions++;
  }
  return {
    owners,
    vaults: owners.map((o) => findVaultAddress(programId, o.publicKey)[0]),
    funded,
    programTransactions,
  } satisfies LoadedChain;
}

/** A deposit of `amount` base units from the owner's wallet into their vault. */
export function depositFor(localnet: Localnet, owner: Keypair, amount: bigint) {
  const { programId, usdtMint } = localnet;
  const [vault] = findVaultAddress(programId, owner.publicKey);
  return depositIx({
    programId,
    user: owner.publicKey,
    userTokenAccount: associatedTokenAddress(owner.publicKey, usdtMint),
    vaultTokenAccount: vaultTokenAccountAddress(vault, usdtMint),
    amount,
  });
}
