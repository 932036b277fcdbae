/**
 * Backed balances: every balance the API or a socket reports says how much of the recorded total its token account
 * really holds in USDT. Inflation by self-transfer (program bug §8.2) and vaults of other mints (§8.5) are made on
 * the shared localnet straight through the chain, as an attacker would.
 */
import { env } from "cloudflare:workers";
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
  MINT_SIZE,
} from "@solana/spl-token";
import { Keypair, type PublicKey, SystemProgram } from "@solana/web3.js";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  associatedTokenAddress,
  depositIx,
  findVaultAddress,
  initializeVaultIx,
  TOKEN_PROGRAM_ID,
  transferCollateralIx,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import { vaults } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { reconciliationJob } from "../../src/jobs/reconciliation.ts";
import { computeTvl } from "../../src/jobs/tvl.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet, rpc } from "./chain.ts";
import { call } from "./helpers.ts";
import { confirmed, ingestPass, openSocket, programId, sendDirect, walletWithVault, withDb } from "./ingest-support.ts";
import { donate, runJobsNow } from "./jobs-support.ts";

/**
 * Other files deposit and withdraw on the same chain while these tests run, by at most a few thousand USDT each:
 * a change of TVL below this bound (ten million USDT) is theirs; what these tests would wrongly add is 100× more.
 * (Amounts stay below 2^53 base units in total, so every client's JSON parser reads TVL exactly.)
 */
const OTHERS = 10n ** 13n;

async function tvlNow() {
  const services = backgroundServices(env as Bindings, { test: "tvl" });
  try {
    return await computeTvl(services);
  } finally {
    await services.close();
  }
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/**
 * `times` self-transfers of `amount`: each adds `amount` to the recorded total and available balance, and no token
 * moves (the token program only needs the account to hold `amount`).
 */
function selfTransfers(vault: PublicKey, vaultToken: PublicKey, authority: PublicKey, amount: bigint, times: number) {
  return Array.from({ length: times }, () =>
    transferCollateralIx({
      programId: programId(),
      authority,
      fromVault: vault,
      fromTokenAccount: vaultToken,
      toVault: vault,
      toTokenAccount: vaultToken,
      amount,
      reason: "settlement",
    }),
  );
}

/** A wallet holding `amount` of a mint of its own (6 decimals, the wallet is its authority), not USDT. */
async function walletWithOwnMint(amount: bigint) {
  const wallet = await fundedWallet();
  const mint = Keypair.generate();
  const rent = await rpc<number>("getMinimumBalanceForRentExemption", [MINT_SIZE]);
  const ata = associatedTokenAddress(wallet.publicKey, mint.publicKey);
  const sig = await sendDirect(
    [
      SystemProgram.createAccount({
        fromPubkey: wallet.publicKey,
        newAccountPubkey: mint.publicKey,
        lamports: rent,
        space: MINT_SIZE,
        programId: TOKEN_PROGRAM_ID,
      }),
      createInitializeMint2Instruction(mint.publicKey, 6, wallet.publicKey, null),
      createAssociatedTokenAccountIdempotentInstruction(wallet.publicKey, ata, wallet.publicKey, mint.publicKey),
      createMintToInstruction(mint.publicKey, ata, wallet.publicKey, amount),
    ],
    wallet,
    mint,
  );
  await confirmed(sig);
  return { wallet, mint: mint.publicKey, ata };
}

describe("backed balances", () => {
  it("a self-transfer straight on the chain shows as unbacked in the balance and on the socket, and leaves TVL unchanged", async () => {
    // A billion USDT of real tokens: each self-transfer can add at most what the token account holds.
    const deposit = 10n ** 15n;
    const { owner, vault, vaultToken } = await walletWithVault(deposit);
    await ingestPass();
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    const before = await tvlNow();

    const stranger = await fundedWallet();
    const inflate = await sendDirect(selfTransfers(vault, vaultToken, stranger.publicKey, deposit, 2), stranger);
    await confirmed(inflate, { failOnError: true });
    const inflated = deposit * 3n;
    await ingestPass();

    const expected = {
      totalBalance: Number(inflated),
      tokenAccountBalance: Number(deposit),
      backedBalance: Number(deposit),
      unbackedBalance: Number(inflated - deposit),
      flags: ["unbacked"],
    };
    const pushed = await socket.waitFor((m) =>
      m.some((x) => x.event === "balance_update" && x.data.totalBalance === Number(inflated)),
    );
    expect(
      pushed.find((x) => x.event === "balance_update" && x.data.totalBalance === Number(inflated))?.data,
    ).toMatchObject(expected);

    const { status, body } = await call(`/vault/balance/${owner}`);
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      totalBalance: Number(inflated),
      tokenAccountBalance: Number(deposit),
      backedBalance: Number(deposit),
      unbackedBalance: Number(inflated - deposit),
      formattedBacked: "1000000000.00 USDT",
      flags: ["unbacked"],
    });

    const after = await tvlNow();
    expect(after.recordedTotal - before.recordedTotal).toBeGreaterThan(inflated - deposit - OTHERS);
    expect(abs(after.totalValueLocked - before.totalValueLocked)).toBeLessThan(OTHERS);

    const later = await openSocket(owner);
    const [snapshot] = await later.waitFor((m) => m.some((x) => x.event === "snapshot"));
    expect((snapshot!.data as { balances: Record<string, unknown> }).balances).toMatchObject(expected);
    socket.ws.close(1000, "done");
    later.ws.close(1000, "done");
  });

  it("a vault in another mint is never formatted as USDT nor counted in TVL", async () => {
    const amount = 10n ** 15n;
    const { wallet, mint, ata } = await walletWithOwnMint(amount);
    const [vault] = findVaultAddress(programId(), wallet.publicKey);
    const vaultToken = vaultTokenAccountAddress(vault, mint);
    const owner = wallet.publicKey.toBase58();
    const before = await tvlNow();
    await confirmed(
      await sendDirect([initializeVaultIx({ programId: programId(), user: wallet.publicKey, mint })], wallet),
      { failOnError: true },
    );
    await confirmed(
      await sendDirect(
        [
          depositIx({
            programId: programId(),
            user: wallet.publicKey,
            userTokenAccount: ata,
            vaultTokenAccount: vaultToken,
            amount,
          }),
        ],
        wallet,
      ),
      { failOnError: true },
    );
    await ingestPass();

    const { status, body } = await call(`/vault/balance/${owner}`);
    expect(status).toBe(200);
    const data = body.data as Record<string, unknown>;
    expect(data).toMatchObject({
      mint: mint.toBase58(),
      tokenAccountBalance: Number(amount),
      backedBalance: 0,
      unbackedBalance: Number(amount),
      flags: ["unbacked", "foreign_mint"],
    });
    for (const field of ["formattedTotal", "formattedAvailable", "formattedLocked", "formattedBacked"]) {
      expect(String(data[field]), field).not.toContain("USDT");
    }
    expect(data.formattedTotal).toBe(`${amount} base units of ${mint.toBase58()}`);

    const socket = await openSocket(owner);
    const [snapshot] = await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    expect((snapshot!.data as { balances: Record<string, unknown> }).balances).toMatchObject({
      mint: mint.toBase58(),
      backedBalance: 0,
      flags: ["unbacked", "foreign_mint"],
    });
    socket.ws.close(1000, "done");

    const after = await tvlNow();
    expect(abs(after.totalValueLocked - before.totalValueLocked)).toBeLessThan(OTHERS);
    expect(abs(after.recordedTotal - before.recordedTotal)).toBeLessThan(OTHERS);
    expect(after.otherMintVaults).toBeGreaterThan(before.otherMintVaults);
  });

  it("reconciliation keeps the backing current when tokens are sent straight to the token account", async () => {
    const { owner, vaultToken } = await walletWithVault(100_000_000n);
    await ingestPass();
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    // A plain SPL transfer: the program never sees it, so only reconciliation can notice.
    await donate(vaultToken, 5_000_000n);
    // Other files share the reconciliation round: run it until it has reached this vault.
    const row = await eventually(async () => {
      await runJobsNow([reconciliationJob], "test-backing", { RECONCILIATION_INTERVAL: "1" });
      const [r] = await withDb((db) => db.select().from(vaults).where(eq(vaults.owner, owner)));
      return r?.tokenAmount === 105_000_000n ? r : undefined;
    }, 120_000);
    expect(row).toMatchObject({ totalBalance: 100_000_000n, tokenAmount: 105_000_000n });
    const pushed = await socket.waitFor((m) =>
      m.some((x) => x.event === "balance_update" && x.data.tokenAccountBalance === 105_000_000),
    );
    expect(pushed.find((x) => x.data.tokenAccountBalance === 105_000_000)?.data).toMatchObject({
      totalBalance: 100_000_000,
      backedBalance: 100_000_000,
      unbackedBalance: 0,
      flags: ["token_surplus"],
      source: "reconciliation",
    });
    const { body } = await call(`/vault/balance/${owner}`);
    expect(body.data).toMatchObject({
      tokenAccountBalance: 105_000_000,
      backedBalance: 100_000_000,
      flags: ["token_surplus"],
    });
    socket.ws.close(1000, "done");
  });

  it("a cached row whose token account was never read (from before backed balances) is read again from the chain", async () => {
    const { owner } = await walletWithVault(3_000_000n);
    await ingestPass();
    await withDb((db) =>
      db
        .update(vaults)
        .set({ mint: null, tokenAmount: null, tokenSlot: null, updatedAt: new Date() })
        .where(eq(vaults.owner, owner)),
    );
    const { body } = await call(`/vault/balance/${owner}`);
    expect(body.data).toMatchObject({
      source: "chain",
      tokenAccountBalance: 3_000_000,
      backedBalance: 3_000_000,
      flags: [],
    });
    const [row] = await withDb((db) => db.select().from(vaults).where(eq(vaults.owner, owner)));
    expect(row).toMatchObject({ tokenAmount: 3_000_000n });
    expect(row!.tokenSlot).not.toBeNull();
  });
});
