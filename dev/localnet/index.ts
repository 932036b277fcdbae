/**
 * Starts the localnet: LiteSVM behind Solana JSON-RPC (HTTP) and PubSub (WebSocket), with the test USDT mint at
 * the configured address, the vault program model at its program id and (optionally) an initialized
 * VaultAuthority.
 */

import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createMintToInstruction,
  getAssociatedTokenAddressSync,
  MINT_SIZE,
  MintLayout,
} from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { initializeVaultAuthorityIx } from "../../src/chain/program/index.ts";
import { Chain } from "./engine.ts";
import { TOKEN_PROGRAM } from "./ledger.ts";
import { describeProfile, PROFILES, type Profile } from "./profile.ts";
import { createLighthouseProgram } from "./program/lighthouse.ts";
import { createPositionManager, POSITION_MANAGER_PROGRAM_IDS } from "./program/position-manager.ts";
import { createVaultProgram } from "./program/vault.ts";
import { PubSub } from "./pubsub.ts";
import { createRpcServer, describeFront, type Front, newFront } from "./server.ts";

export const DEFAULT_PROGRAM_ID = "6DXunQxjcEx6V978DDho6A4GoKVk39HrAVtjtLywSy4Q";
export const DEFAULT_USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";
export const USDT_DECIMALS = 6;

export interface LocalnetOptions {
  port?: number;
  wsPort?: number;
  host?: string;
  slotMs?: number;
  finalityDepth?: number;
  programId?: string;
  usdtMint?: string;
  initializeAuthority?: boolean;
  quiet?: boolean;
  /** How the main RPC front behaves (default `ideal`); see profile.ts. */
  profile?: Profile;
}

/** A further HTTP JSON-RPC front over the same chain, with a profile of its own. */
export interface RpcFront {
  rpcUrl: string;
  front: Front;
  close(): Promise<void>;
}

export interface FundResult {
  signatures: string[];
  ata: string | null;
}

export interface Localnet {
  rpcUrl: string;
  wsUrl: string;
  programId: PublicKey;
  usdtMint: PublicKey;
  mintAuthority: Keypair;
  admin: Keypair;
  /** The engine, for in-process use (advanceSlots, ledger, clock…). */
  chain: Chain;
  /** The main front's profile, one-shot faults and counters. */
  front: Front;
  /**
   * Opens another JSON-RPC front over the same chain (e.g. a `provider` front beside an `ideal` one, or an
   * archival endpoint with full history); it is closed with the localnet.
   */
  addFront(profile: Profile, port?: number): Promise<RpcFront>;
  fund(address: PublicKey, opts: { lamports?: bigint; usdt?: bigint }): Promise<FundResult>;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Writes a 6-decimal SPL mint at `mint` with `authority` as mint authority and no freeze authority. */
function placeMint(chain: Chain, mint: PublicKey, authority: PublicKey): void {
  const data = Buffer.alloc(MINT_SIZE);
  MintLayout.encode(
    {
      mintAuthorityOption: 1,
      mintAuthority: authority,
      supply: 0n,
      decimals: USDT_DECIMALS,
      isInitialized: true,
      freezeAuthorityOption: 0,
      freezeAuthority: PublicKey.default,
    },
    data,
  );
  chain.svm.setAccount(mint, {
    lamports: chain.minimumBalance(MINT_SIZE),
    owner: TOKEN_PROGRAM,
    data,
    executable: false,
  });
}

/** Initializes the VaultAuthority through a real transaction signed by the local admin. */
function initializeAuthority(chain: Chain, programId: PublicKey, admin: Keypair): void {
  chain.airdrop(admin.publicKey, 10_000_000_000n);
  const r = chain.submit([initializeVaultAuthorityIx({ programId, admin: admin.publicKey })], [admin]);
  if (r.meta.err)
    throw new Error(
      `initialize_vault_authority failed: ${JSON.stringify(r.meta.err)}\n${r.meta.logMessages.join("\n")}`,
    );
}

function fundWith(chain: Chain, mint: PublicKey, mintAuthority: Keypair) {
  return async (address: PublicKey, opts: { lamports?: bigint; usdt?: bigint }): Promise<FundResult> => {
    const signatures: string[] = [];
    const check = (r: ReturnType<Chain["submit"]>) => {
      if (r.meta.err) throw new Error(`fund failed: ${JSON.stringify(r.meta.err)}: ${r.meta.logMessages.join(" | ")}`);
      signatures.push(r.signature);
    };
    if (opts.lamports && opts.lamports > 0n) check(chain.airdrop(address, opts.lamports));
    let ata: string | null = null;
    if (opts.usdt !== undefined) {
      const ataKey = getAssociatedTokenAddressSync(mint, address, true);
      ata = ataKey.toBase58();
      const ixs = [createAssociatedTokenAccountIdempotentInstruction(chain.faucet.publicKey, ataKey, address, mint)];
      const signers = [chain.faucet];
      if (opts.usdt > 0n) {
        ixs.push(createMintToInstruction(mint, ataKey, mintAuthority.publicKey, opts.usdt));
        signers.push(mintAuthority);
      }
      check(chain.submit(ixs, signers));
    }
    return { signatures, ata };
  };
}

/** Starts a localnet; `port: 0` picks a random port (the WebSocket port is then random too unless given). */
export async function startLocalnet(opts: LocalnetOptions = {}): Promise<Localnet> {
  const host = opts.host ?? "127.0.0.1";
  const chain = new Chain({ finalityDepth: opts.finalityDepth ?? 32 });
  const programId = new PublicKey(opts.programId ?? DEFAULT_PROGRAM_ID);
  const usdtMint = new PublicKey(opts.usdtMint ?? DEFAULT_USDT_MINT);
  const mintAuthority = Keypair.generate();
  const admin = Keypair.generate();
  placeMint(chain, usdtMint, mintAuthority.publicKey);
  chain.registerModel(createVaultProgram(programId));
  for (const id of POSITION_MANAGER_PROGRAM_IDS) chain.registerModel(createPositionManager(id, programId));
  // Wallets (Phantom, Solflare) add Lighthouse assertions to what they sign: the stand-in lets tests do the same.
  chain.registerModel(createLighthouseProgram());
  if (opts.initializeAuthority !== false) initializeAuthority(chain, programId, admin);

  const front = newFront(opts.profile ?? PROFILES.ideal);
  const fund = fundWith(chain, usdtMint, mintAuthority);
  let pubsub: PubSub | null = null;
  const info = () => ({
    rpcUrl,
    wsUrl,
    programId: programId.toBase58(),
    usdtMint: usdtMint.toBase58(),
    mintAuthority: mintAuthority.publicKey.toBase58(),
    admin: admin.publicKey.toBase58(),
    slot: chain.clock.slot,
    confirmedSlot: chain.clock.slotAt("confirmed"),
    finalizedSlot: chain.clock.slotAt("finalized"),
    stallFinalization: chain.clock.stallFinalization,
    ...describeFront(front),
  });
  const controls = {
    fund: (address: string, lamports?: bigint, usdt?: bigint) => fund(new PublicKey(address), { lamports, usdt }),
    info,
    dropPubsub: () => pubsub?.dropAll(),
  };
  const http = createRpcServer(chain, controls, front);
  const port = await listen(http, opts.port ?? 8899, host);
  const fronts: RpcFront[] = [];
  const wsServer = createServer((_req, res) => res.writeHead(426).end("WebSocket only"));
  // web3.js derives the PubSub URL as rpcPort + 1 when no wsEndpoint is given: prefer it even for random ports.
  const wsPort = await listen(wsServer, opts.wsPort ?? port + 1, host).catch((e: { code?: string }) => {
    if (opts.port === 0 && opts.wsPort === undefined && e.code === "EADDRINUSE") return listen(wsServer, 0, host);
    throw e;
  });
  pubsub = new PubSub(chain, wsServer);
  const rpcUrl = `http://${host}:${port}`;
  const wsUrl = `ws://${host}:${wsPort}`;
  chain.start(opts.slotMs ?? 400);
  if (!opts.quiet) console.log(`localnet: RPC ${rpcUrl}  PubSub ${wsUrl}  (${describeProfile(front.profile)})`);

  return {
    rpcUrl,
    wsUrl,
    programId,
    usdtMint,
    mintAuthority,
    admin,
    chain,
    front,
    fund,
    async addFront(profile, frontPort = 0) {
      const extra = newFront(profile);
      const server = createRpcServer(chain, controls, extra);
      const url = `http://${host}:${await listen(server, frontPort, host)}`;
      const opened: RpcFront = {
        rpcUrl: url,
        front: extra,
        close: async () => {
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
        },
      };
      fronts.push(opened);
      return opened;
    },
    async close() {
      await Promise.all(fronts.map((f) => f.close()));
      chain.stop();
      pubsub?.close();
      http.closeAllConnections();
      wsServer.closeAllConnections();
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => wsServer.close(r))]);
    },
  };
}
