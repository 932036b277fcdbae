/**
 * Solana PubSub over WebSocket: account, program, logs, signature and slot subscriptions. Notifications are
 * released when the slot of the change reaches the subscription's commitment; account contents are the latest
 * state at that moment (the localnet keeps one state, see rpc-accounts.ts).
 */
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { PublicKey } from "@solana/web3.js";
import type { WebSocket, WebSocketServer as WsServer } from "ws";
import type { Commitment } from "./clock.ts";
import { normaliseCommitment } from "./clock.ts";
import type { AccountFilter } from "./encode-account.ts";
import { encodeAccount, matchesFilters } from "./encode-account.ts";
import type { Chain } from "./engine.ts";
import type { TxRecord } from "./ledger.ts";
import type { AccountState } from "./program-model.ts";

// vitest may resolve `import "ws"` to its browser stub (see TOOLCHAIN.md); require gets the Node build.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as typeof import("ws");

type Sub = { id: number; socket: WebSocket; commitment: Commitment; cursor: number } & (
  | { kind: "account"; key: string; encoding: string }
  | { kind: "program"; program: string; encoding: string; filters: AccountFilter[] }
  | { kind: "logs"; mention: string | null }
  | { kind: "signature"; signature: string; received: boolean }
  | { kind: "slot" }
);

const SUBSCRIBE: Record<string, Sub["kind"]> = {
  accountSubscribe: "account",
  programSubscribe: "program",
  logsSubscribe: "logs",
  signatureSubscribe: "signature",
  slotSubscribe: "slot",
};
const NOTIFICATION: Record<Sub["kind"], string> = {
  account: "accountNotification",
  program: "programNotification",
  logs: "logsNotification",
  signature: "signatureNotification",
  slot: "slotNotification",
};

const EMPTY: AccountState = { lamports: 0n, owner: PublicKey.default, data: new Uint8Array(0), executable: false };

export class PubSub {
  private readonly wss: WsServer;
  private readonly subs = new Map<number, Sub>();
  private readonly events: TxRecord[] = [];
  private base = 0;
  private nextId = 1;
  private readonly unlisten: Array<() => void>;
  private readonly chain: Chain;

  constructor(chain: Chain, server: Server) {
    this.chain = chain;
    this.wss = new WebSocketServer({ server });
    this.wss.on("connection", (socket) => this.accept(socket));
    this.unlisten = [chain.onTransaction((r) => this.onTransaction(r)), chain.onSlot((s) => this.onSlot(s))];
  }

  /** Closes every client socket now (fault injection: web3.js reconnects and resubscribes). */
  dropAll(): void {
    for (const socket of this.wss.clients) socket.terminate();
  }

  close(): void {
    for (const u of this.unlisten) u();
    this.dropAll();
    this.wss.close();
  }

  private accept(socket: WebSocket): void {
    socket.on("message", (raw) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(raw));
      } catch {
        send(socket, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
        return;
      }
      this.request(socket, msg);
    });
    socket.on("close", () => {
      for (const [id, s] of this.subs) if (s.socket === socket) this.subs.delete(id);
    });
    socket.on("error", () => socket.terminate());
  }

  private request(socket: WebSocket, msg: Record<string, unknown>): void {
    const id = msg.id ?? null;
    const method = String(msg.method);
    const params = Array.isArray(msg.params) ? msg.params : [];
    const fail = (code: number, message: string) => send(socket, { jsonrpc: "2.0", error: { code, message }, id });
    if (method === "ping") {
      if (id !== null) send(socket, { jsonrpc: "2.0", result: "pong", id });
      return;
    }
    if (method.endsWith("Unsubscribe")) {
      const sub = this.subs.get(Number(params[0]));
      if (!sub || sub.socket !== socket) {
        fail(-32602, "Invalid subscription id.");
        return;
      }
      this.subs.delete(sub.id);
      send(socket, { jsonrpc: "2.0", result: true, id });
      return;
    }
    const kind = SUBSCRIBE[method];
    const sub = kind ? this.makeSub(socket, kind, params) : null;
    if (!sub) {
      if (kind) fail(-32602, "Invalid params");
      else fail(-32601, "Method not found");
      return;
    }
    this.subs.set(sub.id, sub);
    send(socket, { jsonrpc: "2.0", result: sub.id, id });
    if (sub.kind === "signature") this.signatureAlreadyLanded(sub);
  }

  private makeSub(socket: WebSocket, kind: Sub["kind"], params: unknown[]): Sub | null {
    const cfgIndex = kind === "slot" ? 0 : 1;
    const cfg = (params[cfgIndex] ?? {}) as Record<string, unknown>;
    const base = {
      id: this.nextId++,
      socket,
      commitment: normaliseCommitment(cfg.commitment),
      cursor: this.base + this.events.length,
    };
    const encoding = typeof cfg.encoding === "string" ? cfg.encoding : "base64";
    try {
      if (kind === "account") return { ...base, kind, key: new PublicKey(String(params[0])).toBase58(), encoding };
      if (kind === "program") {
        const filters = (Array.isArray(cfg.filters) ? cfg.filters : []) as AccountFilter[];
        return { ...base, kind, program: new PublicKey(String(params[0])).toBase58(), encoding, filters };
      }
      if (kind === "logs") {
        const f = params[0];
        if (f === "all" || f === "allWithVotes") return { ...base, kind, mention: null };
        const mentions = (f as { mentions?: unknown[] })?.mentions;
        if (!Array.isArray(mentions) || mentions.length !== 1) return null;
        return { ...base, kind, mention: new PublicKey(String(mentions[0])).toBase58() };
      }
      if (kind === "signature") {
        if (typeof params[0] !== "string") return null;
        return { ...base, kind, signature: params[0], received: cfg.enableReceivedNotification === true };
      }
      return { ...base, kind: "slot" };
    } catch {
      return null;
    }
  }

  private notify(sub: Sub, result: unknown, slot?: number): void {
    const payload = slot === undefined ? result : { context: { slot }, value: result };
    send(sub.socket, {
      jsonrpc: "2.0",
      method: NOTIFICATION[sub.kind],
      params: { result: payload, subscription: sub.id },
    });
  }

  /** Signature subscriptions look the ledger up, so one made after the transaction landed still fires. */
  private signatureAlreadyLanded(sub: Sub & { kind: "signature" }): void {
    const r = this.chain.ledger.get(sub.signature);
    if (r && r.slot <= this.chain.clock.slotAt(sub.commitment)) {
      this.notify(sub, { err: r.meta.err }, r.slot);
      this.subs.delete(sub.id);
    }
  }

  private onTransaction(r: TxRecord): void {
    this.events.push(r);
    for (const sub of this.subs.values()) {
      if (sub.kind === "signature" && sub.received && sub.signature === r.signature) {
        this.notify(sub, "receivedSignature", r.slot);
      }
    }
    this.deliver();
  }

  private onSlot(slot: number): void {
    for (const sub of this.subs.values()) {
      if (sub.kind === "slot")
        this.notify(sub, { parent: Math.max(slot - 1, 0), root: this.chain.clock.slotAt("finalized"), slot });
    }
    this.deliver();
  }

  /** Releases queued transaction events to every subscription whose commitment now covers them. */
  private deliver(): void {
    for (const sub of [...this.subs.values()]) {
      if (sub.kind === "signature") this.signatureAlreadyLanded(sub);
      if (sub.kind === "slot" || sub.kind === "signature") continue;
      const limit = this.chain.clock.slotAt(sub.commitment);
      while (sub.cursor < this.base + this.events.length && this.subs.has(sub.id)) {
        const r = this.events[sub.cursor - this.base]!;
        if (r.slot > limit) break;
        sub.cursor += 1;
        this.apply(sub, r);
      }
    }
    this.prune();
  }

  private apply(sub: Sub, r: TxRecord): void {
    const m = r.message;
    const keys = m.staticAccountKeys.map((k) => k.toBase58());
    const written = keys.filter((_k, i) => m.isAccountWritable(i));
    const load = (k: PublicKey) => this.chain.getAccount(k);
    if (sub.kind === "account" && written.includes(sub.key)) {
      const a = load(new PublicKey(sub.key)) ?? EMPTY;
      this.notify(sub, encodeAccount(a, sub.encoding, load), r.slot);
    } else if (sub.kind === "program") {
      for (const k of written) {
        const a = load(new PublicKey(k));
        if (!a || a.owner.toBase58() !== sub.program || !matchesFilters(a.data, sub.filters)) continue;
        this.notify(sub, { pubkey: k, account: encodeAccount(a, sub.encoding, load) }, r.slot);
      }
    } else if (sub.kind === "logs" && (sub.mention === null || keys.includes(sub.mention))) {
      this.notify(sub, { signature: r.signature, err: r.meta.err, logs: r.meta.logMessages }, r.slot);
    }
  }

  private prune(): void {
    let min = this.base + this.events.length;
    for (const s of this.subs.values()) if (s.kind !== "slot" && s.kind !== "signature") min = Math.min(min, s.cursor);
    if (min > this.base) {
      this.events.splice(0, min - this.base);
      this.base = min;
    }
  }
}

function send(socket: WebSocket, msg: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
}
