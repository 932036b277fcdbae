/** Test-side helpers for the hardening suites: in-process calls with env overrides that keep headers and sockets. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ed25519 } from "@noble/curves/ed25519";
import { Keypair, type PublicKey, SystemProgram, Transaction } from "@solana/web3.js";
import { sql } from "drizzle-orm";
import type { Bindings } from "../../src/env.ts";
import worker from "../../src/index.ts";
import type { Body } from "./helpers.ts";
import { withDb } from "./ingest-support.ts";

export interface Sent {
  status: number;
  headers: Headers;
  body: Body | null;
  text: string;
  webSocket: WebSocket | null;
}

/** Sends a request through the Worker's fetch handler with some bindings replaced; keeps headers and sockets. */
export async function send(
  /** Any variable, including optional ones wrangler.toml does not list (so `Bindings` does not name them). */
  overrides: Record<string, string>,
  path: string,
  init?: RequestInit,
): Promise<Sent> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://vault.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides } as Bindings,
    ctx,
  );
  const webSocket = res.webSocket ?? null;
  const text = webSocket ? "" : await res.text();
  await waitOnExecutionContext(ctx);
  let body: Body | null = null;
  try {
    body = JSON.parse(text) as Body;
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text, webSocket };
}

/** JSON POST init with extra headers. */
export function jsonInit(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

/** A fresh client IP so that buckets of other tests never interfere. */
export function freshIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

/** A signed transaction that does not touch the vault program (a System transfer), base64. */
export function foreignSignedTransaction(payer = Keypair.generate()): string {
  const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: Keypair.generate().publicKey.toBase58() });
  tx.add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1 }));
  tx.sign(payer);
  return btoa(String.fromCharCode(...tx.serialize()));
}

/** The same kind of transaction naming `feePayer` but signed by another key: its signature does not verify. */
export function forgedSignedTransaction(feePayer: PublicKey): string {
  const signer = Keypair.generate();
  const tx = new Transaction({ feePayer, recentBlockhash: Keypair.generate().publicKey.toBase58() });
  tx.add(SystemProgram.transfer({ fromPubkey: feePayer, toPubkey: Keypair.generate().publicKey, lamports: 1 }));
  const message = tx.serializeMessage();
  tx.addSignature(feePayer, nacl(message, signer) as Parameters<Transaction["addSignature"]>[1]);
  return btoa(String.fromCharCode(...tx.serialize({ requireAllSignatures: true, verifySignatures: false })));
}

function nacl(message: Uint8Array, signer: Keypair): Uint8Array {
  return ed25519.sign(message, signer.secretKey.slice(0, 32));
}

/** A body stream without Content-Length (sent chunked), `total` bytes of JSON-ish text in 1 KiB chunks. */
export function chunkedBody(total: number, prefix = '{"userPubkey":"'): ReadableStream<Uint8Array> {
  let sent = 0;
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(1024, total - sent);
      const chunk = sent === 0 ? prefix + "a".repeat(Math.max(0, size - prefix.length)) : "a".repeat(size);
      controller.enqueue(encoder.encode(chunk));
      sent += size;
    },
  });
}

/**
 * A connection string for a login of its own (created once per server) that may read every table and write only
 * what `grants` allow: the database then "fails" exactly at the first write outside them. Names are fixed test roles.
 */
export async function restrictedDatabaseUrl(role: "fault_readonly" | "fault_nologs", grants: string[] = []) {
  await withDb(async (db) => {
    await db.execute(
      sql.raw(`do $$ begin
        if not exists (select from pg_roles where rolname = '${role}') then
          create role ${role} login password '${role}';
        end if; end $$`),
    );
    await db.execute(sql.raw(`grant select on all tables in schema public to ${role}`));
    for (const grant of grants) await db.execute(sql.raw(`grant ${grant} to ${role}`));
  });
  const url = new URL(env.DATABASE_URL!);
  url.username = role;
  url.password = role;
  return url.toString();
}
