/**
 * transfer_collateral, the admin instructions and the deliberate bugs of spec §8, on the localnet through web3.js
 * `Connection` and spl-token only.
 */
import { createAssociatedTokenAccountIdempotentInstruction, createMint } from "@solana/spl-token";
import { Keypair } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Localnet, startLocalnet } from "../../dev/localnet/index.ts";
import {
  addAuthorizedProgramIx,
  initializeVaultAuthorityIx,
  initializeVaultIx,
  lockCollateralIx,
  removeAuthorizedProgramIx,
  setPausedIx,
  type TransferParams,
  transferCollateralIx,
  unlockCollateralIx,
  vaultTokenAccountAddress,
  withdrawIx,
} from "../../src/chain/program/index.ts";
import {
  flow,
  readAuthority,
  readVault,
  tokenBalance,
  type User,
  userWithVault,
  VaultHarness,
} from "./vault-harness.ts";

let net: Localnet;
let h: VaultHarness;

beforeAll(async () => {
  net = await startLocalnet({ port: 0, slotMs: 50, finalityDepth: 3, quiet: true });
  h = new VaultHarness(net);
});
afterAll(async () => {
  await net?.close();
});

const transfer = (
  authority: Keypair,
  from: User,
  to: User,
  amount: bigint,
  reason: TransferParams["reason"] = "settlement",
) =>
  transferCollateralIx({
    programId: h.programId,
    authority: authority.publicKey,
    fromVault: from.vault,
    fromTokenAccount: from.vaultAta,
    toVault: to.vault,
    toTokenAccount: to.vaultAta,
    amount,
    reason,
  });

describe("transfer_collateral", () => {
  it("moves tokens and balances between vaults, draining locked first, and emits TransferCollateralEvent", async () => {
    const from = await userWithVault(h, 100n);
    const to = await userWithVault(h, 5n);
    await h.send(
      [lockCollateralIx({ programId: h.programId, authority: from.key, vault: from.vault, amount: 30n })],
      [from.kp],
    );
    const r = await h.send([transfer(from.kp, from, to, 50n, "liquidation")], [from.kp]);
    expect(r.err).toBeNull();
    const f = await readVault(h, from.vault);
    // §8.7: total is checked, locked (30) is consumed first, then 20 of available.
    expect([f.totalBalance, f.lockedBalance, f.availableBalance]).toEqual([50n, 0n, 50n]);
    const t = await readVault(h, to.vault);
    expect([t.totalBalance, t.availableBalance]).toEqual([55n, 55n]);
    expect(await tokenBalance(h, from.vaultAta)).toBe(50n);
    expect(await tokenBalance(h, to.vaultAta)).toBe(55n);
    expect(r.events).toEqual([
      {
        name: "TransferCollateralEvent",
        data: {
          fromVault: from.vault,
          toVault: to.vault,
          amount: 50n,
          transferredBy: from.key,
          reason: "liquidation",
          timestamp: expect.any(BigInt),
        },
      },
    ]);
  });

  it("fails with 12010 beyond the source total and 12020 with a token account that is not the vault's", async () => {
    const from = await userWithVault(h, 10n);
    const to = await userWithVault(h, 0n);
    expect((await h.send([transfer(from.kp, from, to, 11n)], [from.kp])).code).toBe(12010);
    const wrong = transfer(from.kp, from, to, 1n);
    wrong.keys[4] = { ...wrong.keys[4]!, pubkey: to.ata };
    const r = await h.send([wrong], [from.kp]);
    expect(r.code).toBe(12020);
    expect(r.logs.some((l) => l.includes("caused by account: to_token_account"))).toBe(true);
  });
});

describe("spec §8 bugs, reproduced on purpose", () => {
  it("§8.1: any signer can move a victim's collateral, locked funds included, and then withdraw it", async () => {
    const victim = await userWithVault(h, 100n);
    await h.send(
      [lockCollateralIx({ programId: h.programId, authority: victim.key, vault: victim.vault, amount: 60n })],
      [victim.kp],
    );
    const attacker = await userWithVault(h, 0n, 1n);
    const stolen = await h.send([transfer(attacker.kp, victim, attacker, 100n, "other")], [attacker.kp]);
    expect(stolen.err).toBeNull();
    const w = await h.send([withdrawIx({ ...flow(h, attacker), amount: 100n })], [attacker.kp]);
    expect(w.err).toBeNull();
    expect(await tokenBalance(h, attacker.ata)).toBe(101n);
    expect((await readVault(h, victim.vault)).totalBalance).toBe(0n);
  });

  it("§8.1: any signer can lock a victim's balance to block withdrawals, and unlock it again", async () => {
    const victim = await userWithVault(h, 100n);
    const stranger = await userWithVault(h, 0n);
    const p = { programId: h.programId, authority: stranger.key, vault: victim.vault };
    const lock = await h.send([lockCollateralIx({ ...p, amount: 100n })], [stranger.kp]);
    expect(lock.err).toBeNull();
    if (lock.events[0]?.name === "LockCollateralEvent")
      expect(lock.events[0].data.lockedBy.equals(stranger.key)).toBe(true);
    expect((await h.send([withdrawIx({ ...flow(h, victim), amount: 1n })], [victim.kp])).code).toBe(12010);
    expect((await h.send([unlockCollateralIx({ ...p, amount: 100n })], [stranger.kp])).err).toBeNull();
    expect((await readVault(h, victim.vault)).availableBalance).toBe(100n);
  });

  it("§8.2: a self-transfer inflates total and available with no tokens behind them", async () => {
    const u = await userWithVault(h, 100n);
    const stranger = Keypair.generate();
    await net.fund(stranger.publicKey, { lamports: 1_000_000_000n });
    const r = await h.send([transfer(stranger, u, u, 100n)], [stranger]);
    expect(r.err).toBeNull();
    const v = await readVault(h, u.vault);
    expect([v.totalBalance, v.availableBalance, v.lockedBalance]).toEqual([200n, 200n, 0n]);
    expect(await tokenBalance(h, u.vaultAta)).toBe(100n);
    // Withdrawing beyond the real tokens fails in the token program (InsufficientFunds 0x1).
    expect((await h.send([withdrawIx({ ...flow(h, u), amount: 150n })], [u.kp])).err).toEqual({
      InstructionError: [0, { Custom: 1 }],
    });
  });

  it("checked math: inflating a vault past 2^64-1 with a self-transfer fails with Overflow 12040", async () => {
    const half = 2n ** 63n;
    const u = await userWithVault(h, half, half);
    const r = await h.send([transfer(u.kp, u, u, half)], [u.kp]);
    expect(r.code).toBe(12040);
    expect(r.logs).toContain(
      "Program log: AnchorError occurred. Error Code: Overflow. Error Number: 12040. Error Message: Arithmetic overflow - this should never happen.",
    );
    expect((await readVault(h, u.vault)).totalBalance).toBe(half);
  });

  it("§8.4: a pre-created vault ATA makes initialize_vault fail for good", async () => {
    const u = await h.newUser();
    const griefer = Keypair.generate();
    await net.fund(griefer.publicKey, { lamports: 1_000_000_000n });
    const pre = createAssociatedTokenAccountIdempotentInstruction(griefer.publicKey, u.vaultAta, u.vault, net.usdtMint);
    expect((await h.send([pre], [griefer])).err).toBeNull();
    const r = await h.send([initializeVaultIx({ programId: h.programId, user: u.key, mint: net.usdtMint })], [u.kp]);
    expect(r.err).not.toBeNull();
    expect((r.err as { InstructionError: [number, unknown] }).InstructionError[0]).toBe(0);
    expect(r.logs.some((l) => l.startsWith("Program ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL failed"))).toBe(true);
    expect(await h.connection.getAccountInfo(u.vault)).toBeNull();
  });

  it("§8.5: initialize_vault accepts any SPL Token mint", async () => {
    const u = await h.newUser();
    const junk = await createMint(h.connection, u.kp, u.key, null, 0, undefined, { commitment: "confirmed" });
    const r = await h.send([initializeVaultIx({ programId: h.programId, user: u.key, mint: junk })], [u.kp]);
    expect(r.err).toBeNull();
    expect((await readVault(h, u.vault)).tokenAccount.equals(vaultTokenAccountAddress(u.vault, junk))).toBe(true);
  });

  it("§8.3: on a fresh deployment whoever calls initialize_vault_authority first becomes admin for good", async () => {
    const fresh = await startLocalnet({
      port: 0,
      slotMs: 50,
      finalityDepth: 3,
      quiet: true,
      initializeAuthority: false,
    });
    try {
      const fh = new VaultHarness(fresh);
      const attacker = Keypair.generate();
      await fresh.fund(attacker.publicKey, { lamports: 1_000_000_000n });
      await fresh.fund(fresh.admin.publicKey, { lamports: 1_000_000_000n });
      const first = await fh.send(
        [initializeVaultAuthorityIx({ programId: fh.programId, admin: attacker.publicKey })],
        [attacker],
      );
      expect(first.err).toBeNull();
      expect(first.events).toEqual([]);
      const auth = await readAuthority(fh);
      expect(auth.admin.equals(attacker.publicKey)).toBe(true);
      expect([auth.authorizedPrograms, auth.isPaused]).toEqual([[], false]);
      const late = await fh.send(
        [initializeVaultAuthorityIx({ programId: fh.programId, admin: fresh.admin.publicKey })],
        [fresh.admin],
      );
      expect(late.err).toEqual({ InstructionError: [0, { Custom: 0 }] });
      const pause = await fh.send(
        [setPausedIx({ programId: fh.programId, admin: attacker.publicKey, paused: true })],
        [attacker],
      );
      expect(pause.err).toBeNull();
    } finally {
      await fresh.close();
    }
  });
});

describe("admin instructions", () => {
  it("add and remove authorized programs update the list and last_updated; duplicates are no-ops", async () => {
    const admin = net.admin;
    const p = Keypair.generate().publicKey;
    const q = Keypair.generate().publicKey;
    const before = await readAuthority(h);
    const add = (program = p) => addAuthorizedProgramIx({ programId: h.programId, admin: admin.publicKey, program });
    expect((await h.send([add(), add(), add(q)], [admin])).err).toBeNull();
    let a = await readAuthority(h);
    expect(a.authorizedPrograms.map((k) => k.toBase58())).toEqual(
      [...before.authorizedPrograms, p, q].map((k) => k.toBase58()),
    );
    expect(a.lastUpdated >= before.lastUpdated).toBe(true);
    const remove = await h.send(
      [removeAuthorizedProgramIx({ programId: h.programId, admin: admin.publicKey, program: p })],
      [admin],
    );
    expect(remove.err).toBeNull();
    expect(remove.events).toEqual([]);
    a = await readAuthority(h);
    expect(a.authorizedPrograms.map((k) => k.toBase58())).toEqual(
      [...before.authorizedPrograms, q].map((k) => k.toBase58()),
    );
  });

  it("a non-admin gets NotAdmin 12022 and an eleventh program MaxAuthorizedProgramsReached 12023", async () => {
    const outsider = Keypair.generate();
    await net.fund(outsider.publicKey, { lamports: 1_000_000_000n });
    const byOutsider = await h.send(
      [setPausedIx({ programId: h.programId, admin: outsider.publicKey, paused: true })],
      [outsider],
    );
    expect(byOutsider.code).toBe(12022);
    expect(byOutsider.logs.some((l) => l.includes("AnchorError caused by account: admin. Error Code: NotAdmin"))).toBe(
      true,
    );
    const current = (await readAuthority(h)).authorizedPrograms.length;
    const fill = Array.from({ length: 10 - current }, () =>
      addAuthorizedProgramIx({
        programId: h.programId,
        admin: net.admin.publicKey,
        program: Keypair.generate().publicKey,
      }),
    );
    expect((await h.send(fill, [net.admin])).err).toBeNull();
    const eleventh = addAuthorizedProgramIx({
      programId: h.programId,
      admin: net.admin.publicKey,
      program: Keypair.generate().publicKey,
    });
    const r = await h.send([eleventh], [net.admin]);
    expect(r.code).toBe(12023);
    expect((await readAuthority(h)).authorizedPrograms).toHaveLength(10);
  });

  it("set_paused flips the flag and emits VaultPausedEvent", async () => {
    const r = await h.send(
      [setPausedIx({ programId: h.programId, admin: net.admin.publicKey, paused: true })],
      [net.admin],
    );
    expect(r.err).toBeNull();
    expect((await readAuthority(h)).isPaused).toBe(true);
    expect(r.events).toEqual([
      { name: "VaultPausedEvent", data: { isPaused: true, admin: net.admin.publicKey, timestamp: expect.any(BigInt) } },
    ]);
    await h.send([setPausedIx({ programId: h.programId, admin: net.admin.publicKey, paused: false })], [net.admin]);
    expect((await readAuthority(h)).isPaused).toBe(false);
  });
});
