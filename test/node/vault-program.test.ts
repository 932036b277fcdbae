/**
 * The vault program as the localnet runs it, driven only through web3.js `Connection` and spl-token: every
 * instruction's success path and state, the errors of spec §4/§5 with their exact codes, events, and pause.
 */
import { TransactionInstruction } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Localnet, startLocalnet } from "../../dev/localnet/index.ts";
import {
  depositIx,
  findVaultAddress,
  INSTRUCTION_DISCRIMINATORS,
  initializeVaultIx,
  lockCollateralIx,
  setPausedIx,
  transferCollateralIx,
  unlockCollateralIx,
  withdrawIx,
} from "../../src/chain/program/index.ts";
import { flow, readVault, tokenBalance, userWithVault, VaultHarness } from "./vault-harness.ts";

let net: Localnet;
let h: VaultHarness;

beforeAll(async () => {
  net = await startLocalnet({ port: 0, slotMs: 50, finalityDepth: 3, quiet: true });
  h = new VaultHarness(net);
});
afterAll(async () => {
  await net?.close();
});

describe("initialize_vault", () => {
  it("creates the vault PDA with zero balances and its ATA owned by the vault, and emits VaultInitializedEvent", async () => {
    const u = await h.newUser();
    const r = await h.send([initializeVaultIx({ programId: h.programId, user: u.key, mint: net.usdtMint })], [u.kp]);
    expect(r.err).toBeNull();
    expect(r.logs).toContain("Program log: Instruction: InitializeVault");
    const v = await readVault(h, u.vault);
    expect(v.owner.equals(u.key)).toBe(true);
    expect(v.tokenAccount.equals(u.vaultAta)).toBe(true);
    expect([v.totalBalance, v.lockedBalance, v.availableBalance, v.totalDeposited, v.totalWithdrawn]).toEqual([
      0n,
      0n,
      0n,
      0n,
      0n,
    ]);
    expect(v.bump).toBe(findVaultAddress(h.programId, u.key)[1]);
    expect(await tokenBalance(h, u.vaultAta)).toBe(0n);
    const info = await h.connection.getAccountInfo(u.vault);
    expect(info?.owner.equals(h.programId)).toBe(true);
    expect(info?.data.length).toBe(121);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]!.name).toBe("VaultInitializedEvent");
    if (r.events[0]!.name === "VaultInitializedEvent") {
      expect(r.events[0]!.data.vault.equals(u.vault)).toBe(true);
      expect(r.events[0]!.data.timestamp).toBe(v.createdAt);
    }
  });

  it("fails in the System program (custom 0x0, already in use) when the vault already exists", async () => {
    const u = await userWithVault(h);
    const r = await h.send([initializeVaultIx({ programId: h.programId, user: u.key, mint: net.usdtMint })], [u.kp]);
    expect(r.err).toEqual({ InstructionError: [0, { Custom: 0 }] });
    expect(r.logs.some((l) => l.includes("already in use"))).toBe(true);
  });

  it("rejects a mint that is not an SPL Token account with 3007 and a wrong token program with 3008", async () => {
    const u = await h.newUser();
    const notMint = initializeVaultIx({ programId: h.programId, user: u.key, mint: net.usdtMint });
    notMint.keys[2] = { ...notMint.keys[2]!, pubkey: u.key };
    expect((await h.send([notMint], [u.kp])).code).toBe(3007);
    const wrongProgram = initializeVaultIx({ programId: h.programId, user: u.key, mint: net.usdtMint });
    wrongProgram.keys[5] = { ...wrongProgram.keys[5]!, pubkey: wrongProgram.keys[4]!.pubkey };
    const r = await h.send([wrongProgram], [u.kp]);
    expect(r.code).toBe(3008);
    expect(r.errorName).toBe("InvalidProgramId");
  });
});

describe("deposit and withdraw", () => {
  it("deposit moves tokens into the vault ATA and credits total, available and total_deposited", async () => {
    const u = await userWithVault(h);
    const r = await h.send([depositIx({ ...flow(h, u), amount: 250_000_000n })], [u.kp]);
    expect(r.err).toBeNull();
    expect(r.logs).toContain("Program log: Deposited 250000000 USDT. New balance: 250000000");
    const v = await readVault(h, u.vault);
    expect([v.totalBalance, v.availableBalance, v.lockedBalance, v.totalDeposited]).toEqual([
      250_000_000n,
      250_000_000n,
      0n,
      250_000_000n,
    ]);
    expect(await tokenBalance(h, u.vaultAta)).toBe(250_000_000n);
    expect(await tokenBalance(h, u.ata)).toBe(750_000_000n);
    expect(r.events).toEqual([
      {
        name: "DepositEvent",
        data: {
          user: u.key,
          vault: u.vault,
          amount: 250_000_000n,
          newBalance: 250_000_000n,
          timestamp: expect.any(BigInt),
        },
      },
    ]);
  });

  it("withdraw sends tokens back, debits total and available, counts total_withdrawn and emits the remaining total", async () => {
    const u = await userWithVault(h, 100n);
    const r = await h.send([withdrawIx({ ...flow(h, u), amount: 40n })], [u.kp]);
    expect(r.err).toBeNull();
    const v = await readVault(h, u.vault);
    expect([v.totalBalance, v.availableBalance, v.totalWithdrawn, v.totalDeposited]).toEqual([60n, 60n, 40n, 100n]);
    expect(await tokenBalance(h, u.vaultAta)).toBe(60n);
    expect(r.events[0]?.name).toBe("WithdrawEvent");
    if (r.events[0]?.name === "WithdrawEvent") expect(r.events[0].data.remainingBalance).toBe(60n);
  });

  it("rejects a zero amount with InvalidAmount 6000 and logs the AnchorError line", async () => {
    const u = await userWithVault(h, 10n);
    const r = await h.send([depositIx({ ...flow(h, u), amount: 0n })], [u.kp]);
    expect(r.err).toEqual({ InstructionError: [0, { Custom: 6000 }] });
    expect(r.errorName).toBe("InvalidAmount");
    expect(
      r.logs.some((l) =>
        /AnchorError thrown in .*deposit\.rs:\d+\. Error Code: InvalidAmount\. Error Number: 6000\./.test(l),
      ),
    ).toBe(true);
    expect((await h.send([withdrawIx({ ...flow(h, u), amount: 0n })], [u.kp])).code).toBe(6000);
  });

  it("withdraw beyond the available balance fails with InsufficientBalance 12010", async () => {
    const u = await userWithVault(h, 100n);
    await h.send([lockCollateralIx({ programId: h.programId, authority: u.key, vault: u.vault, amount: 70n })], [u.kp]);
    const r = await h.send([withdrawIx({ ...flow(h, u), amount: 31n })], [u.kp]);
    expect(r.code).toBe(12010);
    expect(r.errorName).toBe("InsufficientBalance");
    const sim = await h.simulate([withdrawIx({ ...flow(h, u), amount: 31n })], [u.kp]);
    expect(sim.err).toEqual({ InstructionError: [0, { Custom: 12010 }] });
  });

  it("a deposit larger than the token balance fails in the token program with InsufficientFunds 0x1", async () => {
    const u = await userWithVault(h, 0n, 5n);
    const r = await h.send([depositIx({ ...flow(h, u), amount: 6n })], [u.kp]);
    expect(r.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect((await readVault(h, u.vault)).totalBalance).toBe(0n);
  });

  it("a token account owned by someone else or a foreign vault ATA fails with Unauthorized 12020", async () => {
    const u = await userWithVault(h, 10n);
    const other = await userWithVault(h, 10n);
    const r1 = await h.send([depositIx({ ...flow(h, u), userTokenAccount: other.ata, amount: 1n })], [u.kp]);
    expect(r1.code).toBe(12020);
    expect(
      r1.logs.some((l) => l.includes("AnchorError caused by account: user_token_account. Error Code: Unauthorized")),
    ).toBe(true);
    const r2 = await h.send([withdrawIx({ ...flow(h, u), vaultTokenAccount: other.vaultAta, amount: 1n })], [u.kp]);
    expect(r2.code).toBe(12020);
  });

  it("another user's vault fails the seeds check with 2006, never the owner constraint (spec §8.8)", async () => {
    const u = await userWithVault(h, 10n);
    const other = await userWithVault(h, 10n);
    const ix = depositIx({ ...flow(h, u), amount: 1n });
    ix.keys[1] = { ...ix.keys[1]!, pubkey: other.vault };
    const r = await h.send([ix], [u.kp]);
    expect(r.code).toBe(2006);
    expect(r.logs.some((l) => l.includes("AnchorError caused by account: vault. Error Code: ConstraintSeeds"))).toBe(
      true,
    );
  });

  it("reports framework errors: 3010 unsigned user, 2000 read-only vault, 3005 missing accounts, 3012 no vault", async () => {
    const u = await userWithVault(h, 10n);
    const payer = await userWithVault(h);
    const unsigned = depositIx({ ...flow(h, u), amount: 1n });
    unsigned.keys[0] = { ...unsigned.keys[0]!, isSigner: false };
    expect((await h.send([unsigned], [payer.kp])).code).toBe(3010);
    const readonly = depositIx({ ...flow(h, u), amount: 1n });
    readonly.keys[1] = { ...readonly.keys[1]!, isWritable: false };
    expect((await h.send([readonly], [u.kp])).code).toBe(2000);
    const short = depositIx({ ...flow(h, u), amount: 1n });
    short.keys = short.keys.slice(0, 5);
    expect((await h.send([short], [u.kp])).code).toBe(3005);
    const fresh = await h.newUser();
    expect((await h.send([depositIx({ ...flow(h, fresh), amount: 1n })], [fresh.kp])).code).toBe(3012);
  });

  it("fails unknown instructions with 101 and undecodable args with 102", async () => {
    const u = await userWithVault(h, 10n);
    const keys = depositIx({ ...flow(h, u), amount: 1n }).keys;
    const unknown = new TransactionInstruction({
      programId: h.programId,
      keys,
      data: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]),
    });
    expect((await h.send([unknown], [u.kp])).code).toBe(101);
    const short = new TransactionInstruction({
      programId: h.programId,
      keys,
      data: Buffer.from([...INSTRUCTION_DISCRIMINATORS.deposit, 1, 0]),
    });
    const r = await h.send([short], [u.kp]);
    expect(r.code).toBe(102);
    expect(r.logs).toContain("Program log: Instruction: Deposit");
  });
});

describe("lock and unlock", () => {
  it("lock moves available to locked and unlock moves it back, each with its event", async () => {
    const u = await userWithVault(h, 100n);
    const lock = await h.send(
      [lockCollateralIx({ programId: h.programId, authority: u.key, vault: u.vault, amount: 30n })],
      [u.kp],
    );
    expect(lock.err).toBeNull();
    let v = await readVault(h, u.vault);
    expect([v.totalBalance, v.lockedBalance, v.availableBalance]).toEqual([100n, 30n, 70n]);
    expect(lock.events[0]).toEqual({
      name: "LockCollateralEvent",
      data: {
        user: u.key,
        vault: u.vault,
        amount: 30n,
        newLockedBalance: 30n,
        newAvailableBalance: 70n,
        lockedBy: u.key,
        timestamp: expect.any(BigInt),
      },
    });
    const unlock = await h.send(
      [unlockCollateralIx({ programId: h.programId, authority: u.key, vault: u.vault, amount: 10n })],
      [u.kp],
    );
    expect(unlock.err).toBeNull();
    v = await readVault(h, u.vault);
    expect([v.totalBalance, v.lockedBalance, v.availableBalance]).toEqual([100n, 20n, 80n]);
    expect(unlock.events[0]?.name).toBe("UnlockCollateralEvent");
  });

  it("locking more than available fails with 12010 and unlocking more than locked with 12012", async () => {
    const u = await userWithVault(h, 100n);
    const p = { programId: h.programId, authority: u.key, vault: u.vault };
    expect((await h.send([lockCollateralIx({ ...p, amount: 101n })], [u.kp])).code).toBe(12010);
    const r = await h.send([unlockCollateralIx({ ...p, amount: 1n })], [u.kp]);
    expect(r.code).toBe(12012);
    expect(r.errorName).toBe("InsufficientLockedBalance");
    expect((await h.send([lockCollateralIx({ ...p, amount: 0n })], [u.kp])).code).toBe(6000);
  });
});

describe("pause", () => {
  it("blocks deposit, withdraw, lock, unlock and transfer with 12032 while zero amounts still give 6000", async () => {
    const u = await userWithVault(h, 100n);
    const other = await userWithVault(h, 0n);
    const lp = { programId: h.programId, authority: u.key, vault: u.vault };
    await h.send([lockCollateralIx({ ...lp, amount: 10n })], [u.kp]);
    const pause = await h.send(
      [setPausedIx({ programId: h.programId, admin: net.admin.publicKey, paused: true })],
      [net.admin],
    );
    expect(pause.err).toBeNull();
    try {
      const transfer = transferCollateralIx({
        programId: h.programId,
        authority: u.key,
        fromVault: u.vault,
        fromTokenAccount: u.vaultAta,
        toVault: other.vault,
        toTokenAccount: other.vaultAta,
        amount: 1n,
        reason: "settlement",
      });
      for (const ix of [
        depositIx({ ...flow(h, u), amount: 1n }),
        withdrawIx({ ...flow(h, u), amount: 1n }),
        lockCollateralIx({ ...lp, amount: 1n }),
        unlockCollateralIx({ ...lp, amount: 1n }),
        transfer,
      ]) {
        expect((await h.send([ix], [u.kp])).code).toBe(12032);
      }
      expect((await h.send([depositIx({ ...flow(h, u), amount: 0n })], [u.kp])).code).toBe(6000);
      const fresh = await h.newUser();
      const init = await h.send(
        [initializeVaultIx({ programId: h.programId, user: fresh.key, mint: net.usdtMint })],
        [fresh.kp],
      );
      expect(init.err).toBeNull();
    } finally {
      await h.send([setPausedIx({ programId: h.programId, admin: net.admin.publicKey, paused: false })], [net.admin]);
    }
    expect((await h.send([depositIx({ ...flow(h, u), amount: 1n })], [u.kp])).err).toBeNull();
  });
});
