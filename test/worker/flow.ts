/** Shared steps for API tests: build, sign, relay and wait for a status. */
import type { Keypair } from "@solana/web3.js";
import { expect } from "vitest";
import { eventually } from "../eventually.ts";
import { confirmed, rpc, signBase64 } from "./chain.ts";
import { call, postJson } from "./helpers.ts";

/** Builds through `path` and returns the response data (asserting 200). */
export async function build(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await postJson(path, body, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as { transactionId: string; unsignedTransaction: string; [k: string]: unknown };
}

/** Waits until GET /transactions/:id reports one of `statuses`. */
export async function waitForStatus(id: string, ...statuses: string[]) {
  return eventually(async () => {
    const { body } = await call(`/transactions/${id}`);
    return statuses.includes(String(body.data?.status)) ? (body.data as Record<string, unknown>) : undefined;
  }, 60_000);
}

/** Builds, signs with `signers`, relays, and waits for confirmation. */
export async function buildSignRelay(
  path: string,
  body: unknown,
  signers: Keypair[],
  headers: Record<string, string> = {},
) {
  const data = await build(path, body, headers);
  const res = await postJson("/vault/submit", {
    signedTransaction: signBase64(data.unsignedTransaction, ...signers),
    transactionId: data.transactionId,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await waitForStatus(data.transactionId, "confirmed", "finalized");
  return data;
}

/**
 * Builds, signs with `signers`, sends straight to the chain as a wallet or an operator's CLI does, reports the
 * signature, and waits until the backend has bound it (confirmed). The relay sends no admin instruction: this is how
 * an operator submits one.
 */
export async function buildSignSend(
  path: string,
  body: unknown,
  signers: Keypair[],
  headers: Record<string, string> = {},
) {
  const data = await build(path, body, headers);
  const signature = await rpc<string>("sendTransaction", [
    signBase64(data.unsignedTransaction, ...signers),
    { encoding: "base64" },
  ]);
  await confirmed(signature, { failOnError: true });
  const res = await postJson("/vault/submit", { signature, transactionId: data.transactionId });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await waitForStatus(data.transactionId, "confirmed", "finalized");
  return { ...data, signature };
}
