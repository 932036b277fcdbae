import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_VAULT_PROGRAM_ID,
  decodeEvent,
  EVENT_DISCRIMINATORS,
  encodeEvent,
  findVaultAddress,
  findVaultAuthorityAddress,
  type VaultEvent,
  vaultTokenAccountAddress,
} from "../../src/chain/program/index.ts";
import { coder, fromAnchor, toAnchor } from "./anchor-oracle.ts";

const programId = DEFAULT_VAULT_PROGRAM_ID;
const key = () => Keypair.generate().publicKey;

const now = 1_765_432_100n;
const sampleEvents = (): VaultEvent[] => [
  { name: "VaultInitializedEvent", data: { owner: key(), vault: key(), tokenAccount: key(), timestamp: now } },
  { name: "DepositEvent", data: { user: key(), vault: key(), amount: 5n, newBalance: 2n ** 64n - 1n, timestamp: now } },
  { name: "WithdrawEvent", data: { user: key(), vault: key(), amount: 5n, remainingBalance: 0n, timestamp: -now } },
  {
    name: "LockCollateralEvent",
    data: {
      user: key(),
      vault: key(),
      amount: 1n,
      newLockedBalance: 2n,
      newAvailableBalance: 3n,
      lockedBy: key(),
      timestamp: now,
    },
  },
  {
    name: "UnlockCollateralEvent",
    data: {
      user: key(),
      vault: key(),
      amount: 1n,
      newLockedBalance: 2n,
      newAvailableBalance: 3n,
      unlockedBy: key(),
      timestamp: now,
    },
  },
  {
    name: "TransferCollateralEvent",
    data: {
      fromVault: key(),
      toVault: key(),
      amount: 9n,
      transferredBy: key(),
      reason: "feeCollection",
      timestamp: now,
    },
  },
  { name: "VaultPausedEvent", data: { isPaused: true, admin: key(), timestamp: now } },
];

describe("event codec", () => {
  const sizes: Record<string, number> = {
    VaultInitializedEvent: 104,
    DepositEvent: 88,
    WithdrawEvent: 88,
    LockCollateralEvent: 128,
    UnlockCollateralEvent: 128,
    TransferCollateralEvent: 113,
    VaultPausedEvent: 41,
  };

  it.each(sampleEvents().map((e) => [e.name, e] as const))("%s matches Anchor byte for byte", (name, e) => {
    const ours = encodeEvent(e);
    const body = coder.types.encode(name, toAnchor(e.data as unknown as Record<string, unknown>));
    expect(ours).toEqual(new Uint8Array([...EVENT_DISCRIMINATORS[name], ...body]));
    expect(ours.length).toBe(8 + sizes[name]!);
    const anchorDecoded = coder.events.decode(Buffer.from(ours).toString("base64"));
    expect(anchorDecoded?.name).toBe(name);
    expect(fromAnchor(anchorDecoded!.data as Record<string, unknown>)).toEqual(e.data);
    expect(decodeEvent(ours)).toEqual(e);
  });

  it("puts the TransferCollateralEvent reason byte at body offset 104", () => {
    const bytes = encodeEvent(sampleEvents()[5]!);
    expect(bytes[8 + 104]).toBe(2);
    bytes[8 + 104] = 5;
    expect(decodeEvent(bytes)).toBeNull();
  });

  it("decodes to null for unknown discriminators and truncated bodies", () => {
    const bytes = encodeEvent(sampleEvents()[1]!);
    expect(decodeEvent(bytes.slice(0, 40))).toBeNull();
    expect(decodeEvent(new Uint8Array(96))).toBeNull();
  });
});

describe("PDAs", () => {
  it("derive the vault, the authority and the vault ATA as the spec defines", () => {
    const owner = key();
    const mint = key();
    const [vault, bump] = findVaultAddress(programId, owner);
    expect([vault, bump]).toEqual(
      PublicKey.findProgramAddressSync([Buffer.from("vault"), owner.toBuffer()], programId),
    );
    expect(findVaultAuthorityAddress(programId)).toEqual(
      PublicKey.findProgramAddressSync([Buffer.from("vault_authority")], programId),
    );
    expect(vaultTokenAccountAddress(vault, mint)).toEqual(getAssociatedTokenAddressSync(mint, vault, true));
    expect(PublicKey.isOnCurve(vault.toBytes())).toBe(false);
  });
});
