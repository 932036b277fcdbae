/** Helpers for driving the vault program on the localnet through web3.js `Connection` and spl-token only. */

import { getAccount } from "@solana/spl-token";
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  Transaction,
  type TransactionInstruction,
} from "@solana/web3.js";
import type { Localnet } from "../../dev/localnet/index.ts";
import {
  type CollateralVault,
  decodeCollateralVault,
  decodeVaultAuthority,
  depositIx,
  findVaultAddress,
  findVaultAuthorityAddress,
  initializeVaultIx,
  parseProgramEvents,
  programErrorFromTransaction,
  type VaultAuthority,
  type VaultEvent,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import { eventually } from "../eventually.ts";

export interface TxResult {
  signature: string;
  err: unknown;
  logs: string[];
  events: VaultEvent[];
  /** The custom error code of the failed instruction, if any. */
  code: number | undefined;
  errorName: string | undefined;
}

export interface User {
  kp: Keypair;
  key: PublicKey;
  ata: PublicKey;
  vault: PublicKey;
  vaultAta: PublicKey;
}

/** A thin client over one localnet. */
export class VaultHarness {
  readonly net: Localnet;
  readonly connection: Connection;
  readonly programId: PublicKey;

  constructor(net: Localnet) {
    this.net = net;
    this.programId = net.programId;
    this.connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
  }

  /** Sends (no preflight), waits for confirmation and reads the transaction back with getTransaction. */
  async send(ixs: TransactionInstruction[], signers: Keypair[]): Promise<TxResult> {
    const bh = await this.connection.getLatestBlockhash();
    const tx = new Transaction({ feePayer: signers[0]!.publicKey, ...bh }).add(...ixs);
    tx.sign(...signers);
    const signature = await this.connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });
    await this.waitConfirmed(signature);
    const got = await this.connection.getTransaction(signature, {
      commitment: "confirmed",
      maxSupportedTransactionVersion: 0,
    });
    if (!got?.meta) throw new Error(`transaction ${signature} not found`);
    const logs = got.meta.logMessages ?? [];
    const mapped = programErrorFromTransaction(got.meta.err, logs);
    return {
      signature,
      err: got.meta.err,
      logs,
      events: parseProgramEvents(logs, this.programId).map((e) => e.event),
      code: mapped?.code,
      errorName: mapped?.name,
    };
  }

  /** Polls getSignatureStatuses until the transaction is confirmed (failed or not). */
  async waitConfirmed(signature: string): Promise<void> {
    await eventually(
      async () => {
        const { value } = await this.connection.getSignatureStatuses([signature]);
        const status = value[0]?.confirmationStatus;
        return status === "confirmed" || status === "finalized" ? true : undefined;
      },
      { timeoutMs: 5_000, everyMs: 25, what: `confirmation of ${signature}` },
    );
  }

  /** simulateTransaction's error and logs for the same transaction, without sending it. */
  async simulate(ixs: TransactionInstruction[], signers: Keypair[]): Promise<{ err: unknown; logs: string[] }> {
    const bh = await this.connection.getLatestBlockhash();
    const tx = new Transaction({ feePayer: signers[0]!.publicKey, ...bh }).add(...ixs);
    tx.sign(...signers);
    const r = await this.connection.simulateTransaction(tx);
    return { err: r.value.err, logs: r.value.logs ?? [] };
  }

  /** A funded wallet with `usdt` test tokens in its ATA (its vault not yet created). */
  async newUser(usdt = 1_000_000_000n): Promise<User> {
    const kp = Keypair.generate();
    const funded = await this.net.fund(kp.publicKey, { lamports: 10n * BigInt(LAMPORTS_PER_SOL), usdt });
    const [vault] = findVaultAddress(this.programId, kp.publicKey);
    if (!funded.ata) throw new Error("fund did not create a token account");
    return {
      kp,
      key: kp.publicKey,
      ata: new PublicKey(funded.ata),
      vault,
      vaultAta: vaultTokenAccountAddress(vault, this.net.usdtMint),
    };
  }
}

/** Reads and decodes a CollateralVault through getAccountInfo. */
export async function readVault(h: VaultHarness, vault: PublicKey): Promise<CollateralVault> {
  const info = await h.connection.getAccountInfo(vault, "confirmed");
  if (!info) throw new Error(`vault ${vault.toBase58()} does not exist`);
  return decodeCollateralVault(new Uint8Array(info.data));
}

/** Reads and decodes the VaultAuthority. */
export async function readAuthority(h: VaultHarness): Promise<VaultAuthority> {
  const info = await h.connection.getAccountInfo(findVaultAuthorityAddress(h.programId)[0], "confirmed");
  if (!info) throw new Error("VaultAuthority does not exist");
  return decodeVaultAuthority(new Uint8Array(info.data));
}

/** SPL token balance of a token account (spl-token getAccount). */
export async function tokenBalance(h: VaultHarness, account: PublicKey): Promise<bigint> {
  return (await getAccount(h.connection, account, "confirmed")).amount;
}

/** A user with an initialized vault and `deposited` tokens in it. */
export async function userWithVault(h: VaultHarness, deposited = 0n, usdt = 1_000_000_000n): Promise<User> {
  const u = await h.newUser(usdt);
  const init = await h.send([initializeVaultIx({ programId: h.programId, user: u.key, mint: h.net.usdtMint })], [u.kp]);
  if (init.err) throw new Error(`initialize_vault failed: ${JSON.stringify(init.err)}\n${init.logs.join("\n")}`);
  if (deposited > 0n) {
    const r = await h.send([depositIx({ ...flow(h, u), amount: deposited })], [u.kp]);
    if (r.err) throw new Error(`deposit failed: ${JSON.stringify(r.err)}\n${r.logs.join("\n")}`);
  }
  return u;
}

/** The deposit/withdraw parameters of a user. */
export function flow(h: VaultHarness, u: User) {
  return { programId: h.programId, user: u.key, userTokenAccount: u.ata, vaultTokenAccount: u.vaultAta };
}
