import { env } from "cloudflare:workers";
import { Keypair, PublicKey } from "@solana/web3.js";
import { describe, expect, inject, it } from "vitest";
import { findVaultAddress } from "../../src/chain/program/index.ts";
import type { Bindings } from "../../src/env.ts";
import { EVENT_SCHEMAS, type OwnerEventName, reconciledBalanceUpdate } from "../../src/realtime/events.ts";
import { publishToOwner } from "../../src/realtime/publish.ts";
import { fundedWallet } from "./chain.ts";
import { buildSignRelay, buildSignSend } from "./flow.ts";
import { call, postJson } from "./helpers.ts";
import { confirmed, ingestPass, lockDirect, openSocket } from "./ingest-support.ts";

const SERVICE = { "x-api-key": "service-key-0123456789abcdef" };
const ADMIN = { "x-api-key": "admin-key-0123456789abcdef" };

/** The original service's frontends read these fields (its published guide), with these JSON types. */
const ORIGINAL_FIELDS: Partial<Record<OwnerEventName, Record<string, "number" | "string" | "string|null">>> = {
  balance_update: { owner: "string", totalBalance: "number", lockedBalance: "number", availableBalance: "number" },
  transaction_confirmed: { transactionId: "string", transactionType: "string", amount: "number", signature: "string" },
  collateral_locked: {
    owner: "string",
    amount: "number",
    positionId: "string|null",
    lockedBalance: "number",
    availableBalance: "number",
  },
  collateral_unlocked: {
    owner: "string",
    amount: "number",
    positionId: "string|null",
    lockedBalance: "number",
    availableBalance: "number",
  },
};

function typeOf(value: unknown): string {
  return value === null ? "null" : typeof value;
}

describe("the WebSocket contract", () => {
  it("every event of a wallet flow and a stranger's lock matches the published schema and the original frontends' fields", async () => {
    const user = await fundedWallet({ usdt: 30_000_000n });
    const userPubkey = user.publicKey.toBase58();
    const socket = await openSocket(userPubkey);
    await socket.waitFor((m) => m.some((e) => e.event === "snapshot"));

    await buildSignRelay("/vault/initialize", { userPubkey }, [user]);
    await buildSignRelay("/vault/deposit", { userPubkey, amount: 20_000_000 }, [user]);

    // An authorized engine locks and unlocks for a position through the privileged builders.
    const engine = await fundedWallet();
    const admin = Keypair.fromSecretKey(Uint8Array.from(inject("localnetAdminSecret")));
    await buildSignSend(
      "/admin/authority/programs/add",
      { adminPubkey: admin.publicKey.toBase58(), programId: engine.publicKey.toBase58() },
      [admin],
      ADMIN,
    );
    const positionId = `BTC-PERP:${crypto.randomUUID().slice(0, 8)}`;
    const lock = { authorityPubkey: engine.publicKey.toBase58(), userPubkey, amount: 5_000_000, positionId };
    const built = await buildSignRelay("/vault/lock", lock, [engine], SERVICE);
    expect(built.positionId).toBe(positionId);
    await buildSignRelay("/vault/unlock", { ...lock, amount: 2_000_000 }, [engine], SERVICE);

    // A stranger's lock straight on the chain (program bug §8.1): no position label.
    const stranger = await fundedWallet();
    const [vault] = findVaultAddress(new PublicKey(inject("programId")), user.publicKey);
    const strangerLock = await lockDirect(vault, stranger, 1_000_000n);
    await confirmed(strangerLock);
    await ingestPass();
    await buildSignRelay("/vault/withdraw", { userPubkey, amount: 10_000_000 }, [user]);

    const messages = await socket.waitFor(
      (m) =>
        m.filter((e) => e.event === "collateral_locked").length >= 2 &&
        m.some((e) => e.event === "collateral_unlocked") &&
        m.some(
          (e) =>
            e.event === "transaction_confirmed" &&
            (e.data as { transactionType?: string }).transactionType === "withdrawal",
        ),
    );
    const events = messages.filter((e) => e.event in EVENT_SCHEMAS);
    for (const e of events) {
      const schema = EVENT_SCHEMAS[e.event as OwnerEventName];
      const parsed = schema.safeParse(e.data);
      expect(parsed.success, `${e.event}: ${JSON.stringify(parsed.error?.issues)} in ${JSON.stringify(e.data)}`).toBe(
        true,
      );
      for (const [field, type] of Object.entries(ORIGINAL_FIELDS[e.event as OwnerEventName] ?? {})) {
        const value = (e.data as Record<string, unknown>)[field];
        expect(type.split("|"), `${e.event}.${field} = ${JSON.stringify(value)}`).toContain(typeOf(value));
      }
      expect(typeof e.seq).toBe("number");
      const envelope = e as unknown as { slot: unknown; commitment: unknown };
      if (e.event === "alert") expect(envelope.commitment).toBeNull();
      else {
        expect(typeof envelope.slot, `${e.event} slot`).toBe("number");
        expect(["confirmed", "finalized"]).toContain(envelope.commitment);
      }
    }
    // Live events in chain order: slots never go back among confirmed events.
    const slots = events
      .filter((e) => (e as unknown as { commitment: unknown }).commitment === "confirmed")
      .map((e) => (e as unknown as { slot: number }).slot);
    expect(slots).toEqual([...slots].sort((a, b) => a - b));
    const named = (name: string) =>
      events.filter((e) => e.event === name).map((e) => e.data as Record<string, unknown>);
    for (const name of ["transaction_confirmed", "balance_update", "collateral_locked", "collateral_unlocked"]) {
      expect(named(name).length, name).toBeGreaterThan(0);
    }
    const locks = named("collateral_locked");
    expect(locks.find((d) => d.amount === 5_000_000)).toMatchObject({ positionId, owner: userPubkey });
    expect(locks.find((d) => d.signature === strangerLock)).toMatchObject({ positionId: null, amount: 1_000_000 });
    expect(named("collateral_unlocked")[0]).toMatchObject({ positionId, amount: 2_000_000, lockedBalance: 3_000_000 });
    const confirmedLock = named("transaction_confirmed").find((d) => d.transactionType === "lock" && d.positionId);
    expect(confirmedLock).toMatchObject({ positionId, amount: 5_000_000 });
    expect(named("balance_update").at(-1)).toMatchObject({ owner: userPubkey, totalBalance: 10_000_000 });

    // History shows the label on the lock the backend built, and none on the stranger's.
    const history = await call(`/vault/transactions/${userPubkey}?type=lock`);
    const rows = (history.body.data as { transactions: Array<Record<string, unknown>> }).transactions;
    expect(rows.find((r) => r.amount === 5_000_000)).toMatchObject({ positionId });
    expect(rows.find((r) => r.signature === strangerLock)).toMatchObject({ positionId: null });
    socket.ws.close(1000, "done");
  });

  it("never sends a balance_update older than one already sent", async () => {
    const owner = Keypair.generate().publicKey.toBase58();
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((e) => e.event === "snapshot"));
    const balance = (slot: bigint, total: bigint) =>
      reconciledBalanceUpdate({
        owner,
        vaultAddress: owner,
        totalBalance: total,
        lockedBalance: 0n,
        availableBalance: total,
        totalDeposited: total,
        totalWithdrawn: 0n,
        backing: { tokenAccountBalance: total, backedBalance: total, unbackedBalance: 0n, isUsdt: true, flags: [] },
        mint: null,
        slot,
      });
    await publishToOwner(env as Bindings, owner, [balance(200n, 7n)]);
    await publishToOwner(env as Bindings, owner, [balance(150n, 5n), balance(201n, 9n)]);
    const updates = await socket.waitFor((m) => m.filter((e) => e.event === "balance_update").length >= 2);
    expect(
      updates.filter((e) => e.event === "balance_update").map((e) => (e.data as { totalBalance: number }).totalBalance),
    ).toEqual([7, 9]);
    socket.ws.close(1000, "done");
  });

  it("refuses a malformed positionId with a coded 400 and records nothing", async () => {
    const body = {
      authorityPubkey: Keypair.generate().publicKey.toBase58(),
      userPubkey: Keypair.generate().publicKey.toBase58(),
      amount: 1,
    };
    for (const positionId of ["", "x".repeat(65), "tab\there", "é", 42]) {
      const res = await postJson("/vault/lock", { ...body, positionId }, SERVICE);
      expect(res.status, JSON.stringify(positionId)).toBe(400);
      expect(res.body.error?.code).toBe("VALIDATION_FAILED");
      expect(JSON.stringify(res.body.error?.details)).toContain("positionId");
    }
  });

  it("publishes the contract as JSON Schema, also in the OpenAPI document", async () => {
    const schema = await call("/events/schema.json");
    expect(schema.status).toBe(200);
    const doc = schema.body as unknown as {
      events: Record<string, { properties: Record<string, { type?: unknown }> }>;
    };
    expect(Object.keys(doc.events)).toEqual(Object.keys(EVENT_SCHEMAS));
    expect(doc.events.balance_update!.properties.totalBalance!.type).toBe("integer");
    expect(doc.events.collateral_locked!.properties).toHaveProperty("positionId");
    const openapi = (await call("/openapi.json")).body as unknown as {
      components: { schemas: Record<string, unknown> };
    };
    expect(openapi.components.schemas).toHaveProperty("WsEvent_transaction_confirmed");
  });
});
