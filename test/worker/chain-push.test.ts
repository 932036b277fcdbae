import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env.ts";
import { chainStream, type StreamStatus } from "../../src/ingest/chain-stream.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet, localnetControl } from "./chain.ts";
import { call } from "./helpers.ts";
import { confirmed, ingestPass, lockDirect, openSocket, walletWithVault } from "./ingest-support.ts";

const stream = () => chainStream(env as Bindings);
const openStream = () =>
  eventually(async () => {
    const s = await stream().ensure();
    return s.state === "open" ? s : undefined;
  }, 60_000);

describe("the push path (logsSubscribe)", () => {
  it("subscribes, is reported in /monitor/status, and is told of every program transaction", async () => {
    const before = await openStream();
    expect(before.subscription).not.toBeNull();
    const { owner } = await walletWithVault(1_000_000n);
    const after = await eventually(async () => {
      const s = await stream().status();
      // initialize + deposit: two program transactions.
      return s.notifications >= before.notifications + 2 ? s : undefined;
    }, 60_000);
    expect(after.lastNotificationAt).not.toBeNull();
    const history = await eventually(async () => {
      const res = await call(`/vault/transactions/${owner}`);
      return (res.body.data?.total as number) >= 2 ? res : undefined;
    }, 60_000);
    expect(history.status).toBe(200);
    const status = await call("/monitor/status", { headers: { "x-api-key": "admin-key-0123456789abcdef" } });
    const push = (status.body.data?.ingestion as { push?: StreamStatus } | undefined)?.push;
    expect(push).toMatchObject({ enabled: true, state: "open" });
  });

  it("loses and duplicates nothing when the subscription is dropped mid-stream: the poll covers the gap", async () => {
    await openStream();
    const { owner, vault } = await walletWithVault(10_000_000n);
    const socket = await openSocket(owner);
    await socket.waitFor((m) => m.some((e) => e.event === "snapshot"));
    const signer = await fundedWallet();
    const sent: string[] = [];
    for (let i = 1; i <= 3; i++) sent.push(await lockDirect(vault, signer, BigInt(i)));
    const { reconnects } = await stream().status();
    // The provider drops every subscription (as an eviction or a deploy would cut the outbound socket).
    await localnetControl("faults", { dropPubsub: true });
    for (let i = 4; i <= 6; i++) sent.push(await lockDirect(vault, signer, BigInt(i)));
    for (const sig of sent) await confirmed(sig);
    await ingestPass();
    const messages = await socket.waitFor(
      (m) => sent.every((sig) => m.some((e) => e.event === "collateral_locked" && e.data.signature === sig)),
      90_000,
    );
    for (const sig of sent) {
      const locks = messages.filter((e) => e.event === "collateral_locked" && e.data.signature === sig);
      const confirmations = messages.filter((e) => e.event === "transaction_confirmed" && e.data.signature === sig);
      expect([sig, locks.length, confirmations.length]).toEqual([sig, 1, 1]);
    }
    // The heartbeat re-opens the subscription.
    const reopened = await eventually(async () => {
      const s = await stream().status();
      return s.state === "open" && s.reconnects > reconnects ? s : undefined;
    }, 60_000);
    expect(reopened.subscription).not.toBeNull();
    socket.ws.close(1000, "done");
  });

  it("reads CHAIN_PUSH (default on; false for providers without PubSub)", async () => {
    const { loadConfig } = await import("../../src/config.ts");
    expect(loadConfig({ ...(env as object), CHAIN_PUSH: "false" }).chainPush).toBe(false);
    expect(loadConfig(env as object).chainPush).toBe(true);
  });
});
