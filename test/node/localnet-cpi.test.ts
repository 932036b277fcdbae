/**
 * The localnet's test position manager: another program locking collateral by CPI into the vault program with a PDA
 * of its own as authority, as an exchange's trading program does. The backend tells such a lock from a direct one by
 * the invoke stack in the logs.
 */
import { Keypair } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Localnet, startLocalnet } from "../../dev/localnet/index.ts";
import {
  POSITION_MANAGER_PROGRAM_ID,
  positionManagerAuthority,
  positionManagerIx,
  STRANGER_MANAGER_PROGRAM_ID,
} from "../../dev/localnet/program/position-manager.ts";
import { lockCollateralIx, parseProgramEvents } from "../../src/chain/program/index.ts";
import { readVault, userWithVault, VaultHarness } from "./vault-harness.ts";

let net: Localnet;
let h: VaultHarness;

beforeAll(async () => {
  net = await startLocalnet({ port: 0, slotMs: 50, finalityDepth: 3, quiet: true });
  h = new VaultHarness(net);
});
afterAll(async () => {
  await net?.close();
});

/** A vault with 5 USDT and a funded wallet that calls the manager (anyone may). */
async function vaultAndCaller() {
  const u = await userWithVault(h, 5_000_000n);
  const caller = Keypair.generate();
  await net.fund(caller.publicKey, { lamports: 1_000_000_000n });
  return { u, caller };
}

describe("the position manager (a program that CPIs into the vault program)", () => {
  it("locks and unlocks a vault's collateral with its PDA as authority, logged one invoke level below it", async () => {
    const { u, caller } = await vaultAndCaller();
    const manager = POSITION_MANAGER_PROGRAM_ID;
    const lock = positionManagerIx({ manager, vaultProgram: h.programId, vault: u.vault, action: "lock", amount: 3n });
    const r = await h.send([lock], [caller]);
    expect(r.err).toBeNull();
    expect(r.logs).toContain(`Program ${manager.toBase58()} invoke [1]`);
    expect(r.logs).toContain(`Program ${h.programId.toBase58()} invoke [2]`);
    const [event] = parseProgramEvents(r.logs, h.programId);
    expect(event?.invoker).toBe(manager.toBase58());
    expect(event?.event.name).toBe("LockCollateralEvent");
    if (event?.event.name === "LockCollateralEvent") {
      expect(event.event.data.lockedBy.equals(positionManagerAuthority(manager))).toBe(true);
    }
    expect((await readVault(h, u.vault)).lockedBalance).toBe(3n);

    const unlock = positionManagerIx({
      manager,
      vaultProgram: h.programId,
      vault: u.vault,
      action: "unlock",
      amount: 3n,
    });
    expect((await h.send([unlock], [caller])).err).toBeNull();
    expect((await readVault(h, u.vault)).lockedBalance).toBe(0n);
  });

  it("runs the same code at the stranger's address, and a direct lock names no invoker", async () => {
    const { u, caller } = await vaultAndCaller();
    const viaStranger = positionManagerIx({
      manager: STRANGER_MANAGER_PROGRAM_ID,
      vaultProgram: h.programId,
      vault: u.vault,
      action: "lock",
      amount: 1n,
    });
    const direct = lockCollateralIx({
      programId: h.programId,
      authority: caller.publicKey,
      vault: u.vault,
      amount: 1n,
    });
    const r = await h.send([viaStranger, direct], [caller]);
    expect(r.err).toBeNull();
    expect(parseProgramEvents(r.logs, h.programId).map((e) => e.invoker)).toEqual([
      STRANGER_MANAGER_PROGRAM_ID.toBase58(),
      null,
    ]);
  });

  it("refuses a PDA that is not its own", async () => {
    const { u, caller } = await vaultAndCaller();
    const ix = positionManagerIx({
      manager: POSITION_MANAGER_PROGRAM_ID,
      vaultProgram: h.programId,
      vault: u.vault,
      action: "lock",
      amount: 1n,
    });
    ix.keys[0]!.pubkey = positionManagerAuthority(STRANGER_MANAGER_PROGRAM_ID);
    const r = await h.send([ix], [caller]);
    expect(r.err).toEqual({ InstructionError: [0, "InvalidArgument"] });
    expect((await readVault(h, u.vault)).lockedBalance).toBe(0n);
  });
});
