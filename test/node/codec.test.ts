import { createHash } from "node:crypto";
import { Keypair, type TransactionInstruction } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import {
  ACCOUNT_DISCRIMINATORS,
  AccountDecodeError,
  addAuthorizedProgramIx,
  type CollateralVault,
  DEFAULT_VAULT_PROGRAM_ID,
  decodeCollateralVault,
  decodeProgramAccount,
  decodeVaultAuthority,
  decodeVaultInstruction,
  depositIx,
  EVENT_DISCRIMINATORS,
  encodeCollateralVault,
  encodeVaultAuthority,
  findVaultAddress,
  findVaultAuthorityAddress,
  INSTRUCTION_DISCRIMINATORS,
  initializeVaultAuthorityIx,
  initializeVaultIx,
  lockCollateralIx,
  removeAuthorizedProgramIx,
  setPausedIx,
  TOKEN_PROGRAM_ID,
  transferCollateralIx,
  unlockCollateralIx,
  type VaultAuthority,
  vaultTokenAccountAddress,
  withdrawIx,
} from "../../src/chain/program/index.ts";
import { camel, coder, fromAnchor, idl, snake, toAnchor } from "./anchor-oracle.ts";

const programId = DEFAULT_VAULT_PROGRAM_ID;
const key = () => Keypair.generate().publicKey;
const sha8 = (preimage: string) => [...createHash("sha256").update(preimage).digest().subarray(0, 8)];

const bytesOf = (ix: TransactionInstruction) => new Uint8Array(ix.data);

describe("discriminators", () => {
  it("equal sha256 of their preimages for every instruction, account and event", () => {
    for (const [name, disc] of Object.entries(INSTRUCTION_DISCRIMINATORS)) {
      expect(disc, name).toEqual(sha8(`global:${snake(name)}`));
    }
    for (const [name, disc] of Object.entries(ACCOUNT_DISCRIMINATORS)) expect(disc).toEqual(sha8(`account:${name}`));
    for (const [name, disc] of Object.entries(EVENT_DISCRIMINATORS)) expect(disc).toEqual(sha8(`event:${name}`));
  });

  it("are the ones the IDL declares, with 10 instructions, 2 accounts, 7 events and 16 errors", () => {
    expect(idl.instructions).toHaveLength(10);
    expect(idl.accounts).toHaveLength(2);
    expect(idl.events).toHaveLength(7);
    expect(idl.errors).toHaveLength(16);
    for (const ix of idl.instructions) {
      expect(ix.discriminator).toEqual(
        INSTRUCTION_DISCRIMINATORS[camel(ix.name) as keyof typeof INSTRUCTION_DISCRIMINATORS],
      );
    }
    expect(idl.errors?.find((e) => e.name === "InsufficientBalance")?.code).toBe(12010);
  });
});

describe("instruction builders", () => {
  const user = key();
  const mint = key();
  const [vault] = findVaultAddress(programId, user);
  const [authority] = findVaultAuthorityAddress(programId);
  const vaultAta = vaultTokenAccountAddress(vault, mint);
  const userAta = key();
  const cases: Array<[string, TransactionInstruction, Record<string, unknown>]> = [
    ["initialize_vault", initializeVaultIx({ programId, user, mint }), {}],
    ["initialize_vault_authority", initializeVaultAuthorityIx({ programId, admin: user }), {}],
    ["add_authorized_program", addAuthorizedProgramIx({ programId, admin: user, program: mint }), { programId: mint }],
    [
      "remove_authorized_program",
      removeAuthorizedProgramIx({ programId, admin: user, program: mint }),
      { programId: mint },
    ],
    ["set_paused", setPausedIx({ programId, admin: user, paused: true }), { isPaused: true }],
    [
      "deposit",
      depositIx({ programId, user, userTokenAccount: userAta, vaultTokenAccount: vaultAta, amount: 2n ** 64n - 1n }),
      { amount: 2n ** 64n - 1n },
    ],
    [
      "withdraw",
      withdrawIx({ programId, user, userTokenAccount: userAta, vaultTokenAccount: vaultAta, amount: 5n }),
      { amount: 5n },
    ],
    ["lock_collateral", lockCollateralIx({ programId, authority: mint, vault, amount: 7n }), { amount: 7n }],
    ["unlock_collateral", unlockCollateralIx({ programId, authority: mint, vault, amount: 0n }), { amount: 0n }],
    [
      "transfer_collateral",
      transferCollateralIx({
        programId,
        authority: mint,
        fromVault: vault,
        fromTokenAccount: vaultAta,
        toVault: authority,
        toTokenAccount: userAta,
        amount: 1_000_000n,
        reason: "insuranceFund",
      }),
      { amount: 1_000_000n, reason: "insuranceFund" },
    ],
  ];

  it.each(cases)("%s encodes the same bytes as Anchor's BorshCoder and decodes back", (name, ix, args) => {
    const expected = coder.instruction.encode(name, toAnchor(args));
    expect(bytesOf(ix)).toEqual(new Uint8Array(expected));
    const decoded = decodeVaultInstruction(
      bytesOf(ix),
      ix.keys.map((k) => k.pubkey),
    );
    expect(decoded?.name).toBe(camel(name));
    expect(decoded?.args).toEqual(args);
  });

  it.each(cases)("%s lists its accounts with the IDL's signer and writable flags", (name, ix) => {
    const spec = idl.instructions.find((i) => i.name === name)!;
    expect(ix.keys.map((k) => [k.isSigner, k.isWritable])).toEqual(
      spec.accounts.map((a) => ["signer" in a && a.signer === true, "writable" in a && a.writable === true]),
    );
    const decoded = decodeVaultInstruction(
      bytesOf(ix),
      ix.keys.map((k) => k.pubkey),
    )!;
    expect(Object.keys(decoded.accounts)).toEqual(spec.accounts.map((a) => camel(a.name)));
  });

  it("puts the derived vault, vault ATA, authority and program ids where the spec says", () => {
    const init = initializeVaultIx({ programId, user, mint }).keys.map((k) => k.pubkey.toBase58());
    expect(init.slice(1, 4)).toEqual([vault.toBase58(), mint.toBase58(), vaultAta.toBase58()]);
    expect(init.slice(4)).toEqual([
      "11111111111111111111111111111111",
      TOKEN_PROGRAM_ID.toBase58(),
      "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
    ]);
    const dep = depositIx({ programId, user, userTokenAccount: userAta, vaultTokenAccount: vaultAta, amount: 1n });
    expect(dep.keys[4]!.pubkey.equals(authority)).toBe(true);
    expect(dep.data.length).toBe(16);
  });

  it("rejects amounts outside 0..2^64-1 with a RangeError", () => {
    const p = { programId, user, userTokenAccount: userAta, vaultTokenAccount: vaultAta };
    expect(() => depositIx({ ...p, amount: -1n })).toThrow(RangeError);
    expect(() => withdrawIx({ ...p, amount: 2n ** 64n })).toThrow(RangeError);
    expect(() => lockCollateralIx({ programId, authority: user, vault, amount: 2n ** 64n })).toThrow(RangeError);
  });

  it("decodes to null for unknown or short discriminators and for args that do not deserialize", () => {
    const keys = Array.from({ length: 7 }, key);
    const transfer = [...INSTRUCTION_DISCRIMINATORS.transferCollateral, 1, 0, 0, 0, 0, 0, 0, 0];
    expect(decodeVaultInstruction(new Uint8Array([...transfer, 4]), keys)?.args).toEqual({
      amount: 1n,
      reason: "other",
    });
    expect(decodeVaultInstruction(new Uint8Array([...transfer, 5]), keys)).toBeNull();
    expect(decodeVaultInstruction(new Uint8Array([...INSTRUCTION_DISCRIMINATORS.setPaused, 2]), keys)).toBeNull();
    expect(decodeVaultInstruction(new Uint8Array([...INSTRUCTION_DISCRIMINATORS.deposit, 1, 2, 3]), keys)).toBeNull();
    expect(decodeVaultInstruction(new Uint8Array([242, 35, 198]), keys)).toBeNull();
    expect(decodeVaultInstruction(new Uint8Array([0]), keys)).toBeNull();
    expect(
      decodeVaultInstruction(new Uint8Array(INSTRUCTION_DISCRIMINATORS.initializeVault), keys.slice(0, 6)),
    ).toBeNull();
  });
});

const sampleVault = (): CollateralVault => ({
  owner: key(),
  tokenAccount: key(),
  totalBalance: 1_000_000_007n,
  lockedBalance: 400n,
  availableBalance: 2n ** 64n - 1n,
  totalDeposited: 123n,
  totalWithdrawn: 45n,
  createdAt: -1_700_000_000n,
  bump: 254,
});

const sampleAuthority = (n: number): VaultAuthority => ({
  admin: key(),
  authorizedPrograms: Array.from({ length: n }, key),
  bump: 253,
  isPaused: true,
  lastUpdated: 1_765_000_000n,
});

describe("account codec", () => {
  it("encodes a CollateralVault to the same 121 bytes as Anchor and decodes Anchor's bytes", async () => {
    const v = sampleVault();
    const ours = encodeCollateralVault(v);
    const anchor = await coder.accounts.encode("CollateralVault", toAnchor(v as unknown as Record<string, unknown>));
    expect(ours).toEqual(new Uint8Array(anchor));
    expect(ours.length).toBe(121);
    expect(decodeCollateralVault(new Uint8Array(anchor))).toEqual(v);
    expect(fromAnchor(coder.accounts.decode("CollateralVault", Buffer.from(ours)))).toEqual(v);
  });

  it("places CollateralVault fields at the spec's absolute offsets", () => {
    const v = sampleVault();
    const bytes = encodeCollateralVault(v);
    const view = new DataView(bytes.buffer);
    expect(bytes.slice(8, 40)).toEqual(v.owner.toBytes());
    expect(bytes.slice(40, 72)).toEqual(v.tokenAccount.toBytes());
    expect(view.getBigUint64(72, true)).toBe(v.totalBalance);
    expect(view.getBigUint64(80, true)).toBe(v.lockedBalance);
    expect(view.getBigUint64(88, true)).toBe(v.availableBalance);
    expect(view.getBigInt64(112, true)).toBe(v.createdAt);
    expect(bytes[120]).toBe(254);
  });

  it.each([0, 3, 10])("encodes a VaultAuthority with %i programs like Anchor, zero-padded to 374 bytes", async (n) => {
    const a = sampleAuthority(n);
    const ours = encodeVaultAuthority(a);
    const anchor = new Uint8Array(
      await coder.accounts.encode("VaultAuthority", toAnchor(a as unknown as Record<string, unknown>)),
    );
    expect(ours.length).toBe(374);
    expect(ours.slice(0, anchor.length)).toEqual(anchor);
    expect(ours.slice(anchor.length).every((b) => b === 0)).toBe(true);
    expect(anchor.length).toBe(8 + 46 + 32 * n);
    expect(ours[44 + 32 * n]).toBe(253);
    expect(ours[45 + 32 * n]).toBe(1);
    expect(new DataView(ours.buffer).getBigInt64(46 + 32 * n, true)).toBe(a.lastUpdated);
    expect(decodeVaultAuthority(ours)).toEqual(a);
  });

  it("ignores a stale tail after a shrunk authorized-programs list", () => {
    const full = encodeVaultAuthority(sampleAuthority(10));
    const small = sampleAuthority(1);
    const stale = encodeVaultAuthority(small);
    stale.set(full.slice(8 + 46 + 32), 8 + 46 + 32);
    expect(decodeVaultAuthority(stale)).toEqual(small);
  });

  it("rejects bad discriminators, sizes, bools, oversize lists and foreign owners with typed reasons", () => {
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof AccountDecodeError ? e.reason : "other";
      }
      return "none";
    };
    const auth = encodeVaultAuthority(sampleAuthority(0));
    const vault = encodeCollateralVault(sampleVault());
    expect(reason(() => decodeCollateralVault(auth))).toBe("discriminator-mismatch");
    expect(reason(() => decodeCollateralVault(vault.slice(0, 120)))).toBe("wrong-size");
    expect(reason(() => decodeCollateralVault(vault.slice(0, 4)))).toBe("too-short");
    const badBool = auth.slice();
    badBool[45] = 2;
    expect(reason(() => decodeVaultAuthority(badBool))).toBe("invalid-data");
    const tooMany = auth.slice();
    tooMany[40] = 11;
    expect(reason(() => decodeVaultAuthority(tooMany))).toBe("invalid-data");
    expect(reason(() => decodeProgramAccount({ owner: TOKEN_PROGRAM_ID, data: vault }, programId))).toBe("wrong-owner");
    expect(decodeProgramAccount({ owner: programId, data: auth }, programId).type).toBe("VaultAuthority");
    expect(decodeProgramAccount({ owner: programId, data: vault }, programId).type).toBe("CollateralVault");
  });
});
