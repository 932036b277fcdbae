import { generateKeyPairSync, randomBytes } from "node:crypto";
import { Keypair, PublicKey, SystemProgram, TransactionInstruction } from "@solana/web3.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  associatedTokenAddress,
  depositIx,
  encodeCollateralVault,
  initializeVaultIx,
  TOKEN_PROGRAM_ID,
  VAULT_SEED,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import type { Localnet } from "../localnet/index.ts";
import { findProgramAddress } from "../localnet/pda.ts";

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
export async function loadChain(
  localnet: Localnet,
  opts: { vaults: number; funded: number; backlog: number; txVaults?: number },
) {
  const { chain, programId } = localnet;
  const check = (r: ReturnType<typeof chain.submit>) => {
    if (r.meta.err) throw new Error(`load failed: ${JSON.stringify(r.meta.err)} ${r.meta.logMessages.join(" | ")}`);
  };
  const funder = Keypair.generate();
  chain.airdrop(funder.publicKey, BigInt(opts.vaults) * VAULT_CREATION_LAMPORTS + 10_000_000_000n);
  const owners: Keypair[] = [];
  let programTransactions = 0;
  const byTransaction = Math.min(opts.vaults, opts.txVaults ?? opts.vaults);
  for (let i = 0; i < byTransaction; i += VAULTS_PER_TX) {
    const users = Array.from({ length: Math.min(VAULTS_PER_TX, byTransaction - i) }, newKeypair);
    const ixs = users.flatMap((u) => [
      SystemProgram.transfer({
        fromPubkey: funder.publicKey,
        toPubkey: u.publicKey,
        lamports: VAULT_CREATION_LAMPORTS,
      }),
      initializeVaultFor(localnet, u.publicKey),
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
  const vaults = owners.map((o) => findProgramAddress([VAULT_SEED, o.publicKey.toBytes()], programId)[0]);
  // The rest as account fixtures: each vault and its token account written as initialize_vault and a deposit would
  // leave them, without executing anything (the localnet's LiteSVM keeps about 350 KB of native memory per executed
  // transaction: 100,000 vaults by transaction would need some 35 GB).
  vaults.push(...writeVaultFixtures(localnet, opts.vaults - byTransaction));
  return { owners, vaults, funded, programTransactions } satisfies LoadedChain;
}

/** Balance of each fixture vault: 5 USDT, all of it in its token account. */
const FIXTURE_BALANCE = 5_000_000n;

/** Writes `count` funded vaults (vault account and token account) straight into the chain's accounts. */
function writeVaultFixtures(localnet: Localnet, count: number): PublicKey[] {
  const { chain, programId, usdtMint } = localnet;
  const vaultRent = chain.minimumBalance(121);
  const tokenRent = chain.minimumBalance(165);
  const createdAt = BigInt(Math.floor(Date.now() / 1000));
  const out: PublicKey[] = [];
  for (let i = 0; i < count; i++) {
    const owner = new PublicKey(randomBytes(32));
    const [vault, bump] = findProgramAddress([VAULT_SEED, owner.toBytes()], programId);
    const [tokenAccount] = findProgramAddress(
      [vault.toBytes(), TOKEN_PROGRAM_ID.toBytes(), usdtMint.toBytes()],
      ASSOCIATED_TOKEN_PROGRAM_ID,
    );
    chain.svm.setAccount(vault, {
      lamports: vaultRent,
      owner: programId,
      executable: false,
      data: encodeCollateralVault({
        owner,
        tokenAccount,
        totalBalance: FIXTURE_BALANCE,
        lockedBalance: 0n,
        availableBalance: FIXTURE_BALANCE,
        totalDeposited: FIXTURE_BALANCE,
        totalWithdrawn: 0n,
        createdAt,
        bump,
      }),
    });
    // SPL token account: mint, owner (the vault PDA), amount, no delegate, initialized, not native.
    const token = new Uint8Array(165);
    token.set(usdtMint.toBytes(), 0);
    token.set(vault.toBytes(), 32);
    new DataView(token.buffer).setBigUint64(64, FIXTURE_BALANCE, true);
    token[108] = 1;
    chain.svm.setAccount(tokenAccount, {
      lamports: tokenRent,
      owner: TOKEN_PROGRAM_ID,
      executable: false,
      data: token,
    });
    out.push(vault);
  }
  return out;
}

/** A keypair from Node's native ed25519 (web3.js's pure-JS key generation was a visible share of the load). */
function newKeypair(): Keypair {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d!, "base64url");
  const publicKey = Buffer.from(jwk.x!, "base64url");
  return new Keypair({ publicKey, secretKey: Buffer.concat([seed, publicKey]) });
}

/**
 * initialize_vault for `user`: the codec's instruction (built once, as a template) with the user's own vault and
 * token account derived through the localnet's memo, so the program's own derivation at initialize_vault (same
 * memo) and the vault list at the end cost nothing more.
 */
function initializeVaultFor(localnet: Localnet, user: PublicKey): TransactionInstruction {
  const { programId, usdtMint } = localnet;
  initTemplate ??= initializeVaultIx({ programId, user, mint: usdtMint });
  const [vault] = findProgramAddress([VAULT_SEED, user.toBytes()], programId);
  const [ata] = findProgramAddress(
    [vault.toBytes(), TOKEN_PROGRAM_ID.toBytes(), usdtMint.toBytes()],
    ASSOCIATED_TOKEN_PROGRAM_ID,
  );
  // Account order of initialize_vault: user, vault, mint, vault token account, system, token, ATA programs.
  const keys = initTemplate.keys.map((k) => ({ ...k }));
  keys[0]!.pubkey = user;
  keys[1]!.pubkey = vault;
  keys[3]!.pubkey = ata;
  return new TransactionInstruction({ programId, keys, data: initTemplate.data });
}
let initTemplate: TransactionInstruction | null = null;

/** Each owner's deposit instruction, built once by the codec; later deposits only change the amount. */
const depositTemplates = new WeakMap<Keypair, TransactionInstruction>();

/** A deposit of `amount` base units from the owner's wallet into their vault. */
export function depositFor(localnet: Localnet, owner: Keypair, amount: bigint) {
  const { programId, usdtMint } = localnet;
  const template = depositTemplates.get(owner);
  if (!template) {
    const [vault] = findProgramAddress([VAULT_SEED, owner.publicKey.toBytes()], programId);
    const ix = depositIx({
      programId,
      user: owner.publicKey,
      userTokenAccount: associatedTokenAddress(owner.publicKey, usdtMint),
      vaultTokenAccount: vaultTokenAccountAddress(vault, usdtMint),
      amount,
    });
    depositTemplates.set(owner, ix);
    return ix;
  }
  // deposit's data: the 8-byte discriminator, then the amount as a little-endian u64.
  const data = Buffer.from(template.data);
  data.writeBigUInt64LE(amount, 8);
  return new TransactionInstruction({ programId, keys: template.keys, data });
}
