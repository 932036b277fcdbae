import { Keypair } from "@solana/web3.js";
import { eq, inArray, like } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import {
  addAuthorizedProgramIx,
  removeAuthorizedProgramIx,
  setPausedIx,
  transferCollateralIx,
} from "../../src/chain/program/index.ts";
import { alerts } from "../../src/db/schema.ts";
import { fundedWallet } from "./chain.ts";
import {
  confirmed,
  ingestPass,
  lockDirect,
  openSocket,
  programId,
  sendDirect,
  walletWithVault,
  withDb,
} from "./ingest-support.ts";

const alertsWith = (where: ReturnType<typeof eq>) => withDb((db) => db.select().from(alerts).where(where));

describe("the watchdog", () => {
  it("alerts for a lock by an unlisted authority and for a self-transfer, and the owner's socket hears each with its signature", async () => {
    const { owner, vault, vaultToken } = await walletWithVault(1_000_000n);
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    const stranger = await fundedWallet();
    const lock = await lockDirect(vault, stranger, 1n);
    const self = await sendDirect(
      [
        transferCollateralIx({
          programId: programId(),
          authority: stranger.publicKey,
          fromVault: vault,
          fromTokenAccount: vaultToken,
          toVault: vault,
          toTokenAccount: vaultToken,
          amount: 1_000n,
          reason: "settlement",
        }),
      ],
      stranger,
    );
    await confirmed(self);
    await ingestPass();
    await ingestPass();

    await socket.waitFor((m) => m.filter((x) => x.event === "alert").length >= 4);
    const pushed = socket
      .of("alert")
      .map((a) => {
        const details = a.data.details as { operation?: string; signatures?: string[] };
        return `${a.data.kind}:${details.operation ?? ""}:${details.signatures?.join(",") ?? ""}`;
      })
      .sort();
    expect(pushed).toEqual(
      [
        "balance_exceeds_tokens::",
        `self_transfer::${self}`,
        `unauthorized_caller:lock:${lock}`,
        `unauthorized_caller:transfer:${self}`,
      ].sort(),
    );
    // Per owner only the condition of the vault itself; the callers' alerts count occurrences per cause and window.
    const ofOwner = await alertsWith(eq(alerts.owner, owner));
    expect(ofOwner.map((a) => a.kind)).toEqual(["balance_exceeds_tokens"]);
    const ids = socket.of("alert").map((a) => BigInt(a.data.id as string));
    const rows = await withDb((db) => db.select().from(alerts).where(inArray(alerts.id, ids)));
    expect(rows.map((r) => r.dedupKey).sort()).toEqual(
      [
        `balance_exceeds_tokens:${owner}`,
        "self_transfer",
        "unauthorized_caller:lock:signer",
        "unauthorized_caller:transfer:signer",
      ].sort(),
    );
    socket.ws.close(1000, "done");
  });

  it("alerts once each for pause, unpause and changes of the authorized list", async () => {
    const admin = Keypair.fromSecretKey(Uint8Array.from(inject("localnetAdminSecret")));
    const program = Keypair.generate().publicKey;
    const pid = programId();
    const add = await sendDirect([addAuthorizedProgramIx({ programId: pid, admin: admin.publicKey, program })], admin);
    const remove = await sendDirect(
      [removeAuthorizedProgramIx({ programId: pid, admin: admin.publicKey, program })],
      admin,
    );
    // Pause and unpause in one transaction, so other tests never see the program paused.
    const pause = await sendDirect(
      [
        setPausedIx({ programId: pid, admin: admin.publicKey, paused: true }),
        setPausedIx({ programId: pid, admin: admin.publicKey, paused: false }),
      ],
      admin,
    );
    await confirmed(add);
    await confirmed(remove);
    await confirmed(pause);
    await ingestPass();
    await ingestPass();

    const list = await withDb((db) => db.select().from(alerts).where(like(alerts.dedupKey, `authorized_list:%`)));
    const mine = list.filter((a) => (a.details as { program: string }).program === program.toBase58());
    expect(mine.map((a) => (a.details as { change: string }).change).sort()).toEqual(["added", "removed"]);
    const pauses = await withDb((db) =>
      db
        .select()
        .from(alerts)
        .where(like(alerts.dedupKey, `pause:${pause}:%`)),
    );
    expect(pauses.map((a) => a.kind).sort()).toEqual(["program_paused", "program_unpaused"]);
  });
});
