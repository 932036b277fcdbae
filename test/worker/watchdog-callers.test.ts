/**
 * Authorization as the exchange means it: a lock is authorized when its signer OR the program that invoked the vault
 * program is in the on-chain list (an exchange's trading program locks by CPI with a PDA of its own). Unauthorized
 * ones are counted per cause in one alert per window. The localnet runs a test position manager at two addresses:
 * one the exchange lists, and a stranger's (dev/localnet/program/position-manager.ts).
 */
import { Keypair } from "@solana/web3.js";
import { eq, sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import {
  POSITION_MANAGER_PROGRAM_ID,
  positionManagerIx,
  STRANGER_MANAGER_PROGRAM_ID,
} from "../../dev/localnet/program/position-manager.ts";
import { addAuthorizedProgramIx } from "../../src/chain/program/index.ts";
import { alerts } from "../../src/db/schema.ts";
import { raiseAggregated } from "../../src/platform/alerts.ts";
import { eventually } from "../eventually.ts";
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

type AlertData = { kind: string; count?: number; details: { signatures?: string[] } };
const signaturesOf = (alert: { data: Record<string, unknown> }) =>
  (alert.data as unknown as AlertData).details.signatures ?? [];

/** Alert rows whose details mention `text` (a signature), whatever their key. */
const alertsMentioning = (text: string) =>
  withDb((db) =>
    db
      .select()
      .from(alerts)
      .where(sql`${alerts.details}::text like ${`%${text}%`}`),
  );

function managerLock(
  manager: typeof POSITION_MANAGER_PROGRAM_ID,
  vault: Parameters<typeof lockDirect>[0],
  amount: bigint,
) {
  return positionManagerIx({ manager, vaultProgram: programId(), vault, action: "lock", amount });
}

describe("authorized callers", () => {
  it("a lock CPI'd by an authorized program raises no alert while a stranger's does", async () => {
    const admin = Keypair.fromSecretKey(Uint8Array.from(inject("localnetAdminSecret")));
    const listed = addAuthorizedProgramIx({
      programId: programId(),
      admin: admin.publicKey,
      program: POSITION_MANAGER_PROGRAM_ID,
    });
    // Adding a listed program again is a no-op on chain, so this file may run against a list that already has it.
    await confirmed(await sendDirect([listed], admin), { failOnError: true });
    const { owner, vault } = await walletWithVault(10_000_000n);
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));

    const keeper = await fundedWallet();
    const viaManager = await sendDirect([managerLock(POSITION_MANAGER_PROGRAM_ID, vault, 2_000_000n)], keeper);
    await confirmed(viaManager, { failOnError: true });
    const stranger = await fundedWallet();
    const direct = await lockDirect(vault, stranger, 1_000_000n);
    await confirmed(direct, { failOnError: true });
    await ingestPass();

    await socket.waitFor((m) => m.some((x) => x.event === "alert" && signaturesOf(x).includes(direct)));
    const locked = socket.of("collateral_locked").map((e) => e.data.signature);
    expect(locked).toEqual([viaManager, direct]);
    const alerted = socket.of("alert").flatMap(signaturesOf);
    expect(alerted).toEqual([direct]);
    expect(socket.of("alert")[0]!.data).toMatchObject({ kind: "unauthorized_caller", severity: "critical" });
    expect(await alertsMentioning(viaManager)).toEqual([]);
    socket.ws.close(1000, "done");
  });

  it("many unauthorized locks in a window make one alert with a count", async () => {
    const { owner, vault } = await walletWithVault(10_000_000n);
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((x) => x.event === "snapshot"));
    const caller = await fundedWallet();
    const signatures: string[] = [];
    for (let tx = 0; tx < 3; tx++) {
      const ixs = [1n, 2n, 3n, 4n].map((amount) => managerLock(STRANGER_MANAGER_PROGRAM_ID, vault, amount));
      const sig = await sendDirect(ixs, caller);
      await confirmed(sig, { failOnError: true });
      signatures.push(sig);
    }
    await ingestPass();

    const key = `unauthorized_caller:lock:program:${STRANGER_MANAGER_PROGRAM_ID.toBase58()}`;
    const [alert] = await eventually(async () => {
      const rows = await withDb((db) => db.select().from(alerts).where(eq(alerts.dedupKey, key)));
      return rows[0]?.count === 12 ? rows : undefined;
    });
    expect(alert).toMatchObject({ kind: "unauthorized_caller", severity: "critical", status: "open", count: 12 });
    expect(alert!.details).toMatchObject({
      operation: "lock",
      caller: "program",
      program: STRANGER_MANAGER_PROGRAM_ID.toBase58(),
      first: { signature: signatures[0], owner, amount: "1" },
      last: { signature: signatures[2], owner, amount: "4" },
    });
    const fromProgram = await withDb((db) =>
      db.select().from(alerts).where(sql`${alerts.details} ->> 'program' = ${STRANGER_MANAGER_PROGRAM_ID.toBase58()}`),
    );
    expect(fromProgram.map((a) => a.id)).toEqual([alert!.id]);
    // No alert per transaction: wherever a signature is mentioned, it is in this one alert.
    for (const sig of signatures) {
      for (const mention of await alertsMentioning(sig)) expect(mention.id).toBe(alert!.id);
    }

    await socket.waitFor((m) => new Set(m.filter((x) => x.event === "alert").flatMap(signaturesOf)).size === 3);
    const pushed = socket.of("alert");
    expect(new Set(pushed.map((a) => a.data.id))).toEqual(new Set([alert!.id.toString()]));
    expect(pushed.at(-1)!.data.count).toBe(12);
    socket.ws.close(1000, "done");
  });

  it("after its window an alert keeps its count and the next occurrence opens a new alert", async () => {
    const key = `test_window:${Keypair.generate().publicKey.toBase58()}`;
    const input = {
      kind: "test_window",
      severity: "info" as const,
      dedupKey: key,
      message: "a cause counted per window",
      details: { last: { n: 1 } },
    };
    const first = await withDb((db) => raiseAggregated(db, input, 2, 60));
    const again = await withDb((db) => raiseAggregated(db, { ...input, details: { last: { n: 2 } } }, 3, 60));
    expect(first).toMatchObject({ opened: true, count: 2 });
    expect(again).toEqual({ id: first.id, opened: false, count: 5 });
    // The window is measured from the alert's creation: an alert made 61 s ago has closed it.
    await withDb((db) =>
      db.update(alerts).set({ createdAt: sql`now() - interval '61 seconds'` }).where(eq(alerts.id, first.id)),
    );
    const next = await withDb((db) => raiseAggregated(db, { ...input, details: { last: { n: 3 } } }, 1, 60));
    expect(next).toMatchObject({ opened: true, count: 1 });
    expect(next.id).not.toBe(first.id);
    const [old] = await withDb((db) => db.select().from(alerts).where(eq(alerts.id, first.id)));
    expect(old).toMatchObject({ count: 5, status: "open", details: { last: { n: 2 } } });
    expect(old!.dedupKey).toMatch(new RegExp(`^${key}@\\d+$`));
  });
});
