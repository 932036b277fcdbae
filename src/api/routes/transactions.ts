import { VersionedTransaction } from "@solana/web3.js";
import { Hono } from "hono";
import { z } from "zod";
import { fromBase64 } from "../../chain/accounts.ts";
import type { AppEnv } from "../../env.ts";
import { kickIngestor } from "../../ingest/ingestor.ts";
import { needsRefresh, refreshRequestStatus, requestView } from "../../vault/lifecycle.ts";
import { findRequest } from "../../vault/requests.ts";
import { relaySigned, trackSignature } from "../../vault/submit.ts";
import { ok } from "../envelope.ts";
import { AppError } from "../errors.ts";
import { idempotencyScope, idempotent } from "../idempotency.ts";
import { readJsonBody, validate } from "../validation.ts";

const uuid = z.uuid({ error: "must be a transaction id (UUID)" });
const signature = z
  .string()
  .regex(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/, "must be a base58 transaction signature")
  .meta({ description: "Base58 transaction signature" });

export const submitBody = z
  .strictObject({
    signedTransaction: z
      .string()
      .min(1)
      .max(2048)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64")
      .optional()
      .meta({ description: "The signed transaction, base64 (wire format)" }),
    signature: signature.optional(),
    transactionId: uuid.optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    if ((v.signedTransaction === undefined) === (v.signature === undefined)) {
      ctx.issues.push({
        code: "custom",
        input: v,
        message: "send exactly one of signedTransaction or signature",
        path: [],
      });
    } else if (v.signature !== undefined && v.transactionId === undefined) {
      ctx.issues.push({ code: "custom", input: v, message: "is required with signature", path: ["transactionId"] });
    }
  });

/**
 * Whose submission it is, for the Idempotency-Key scope: the fee payer of a signed transaction (the first account of
 * its message; an unreadable one is refused by the relay anyway), or the request a signature is reported for.
 */
function submitSubject(body: z.output<typeof submitBody>): string {
  if (body.transactionId && body.signature) return body.transactionId;
  try {
    const bytes = fromBase64(body.signedTransaction ?? "");
    return VersionedTransaction.deserialize(bytes).message.staticAccountKeys[0]?.toBase58() ?? "unreadable";
  } catch {
    return "unreadable";
  }
}

/** POST /vault/submit (relay) and GET /transactions/:id (status). */
export const transactionRoutes = new Hono<AppEnv>()
  .post("/vault/submit", async (c) => {
    const { text, value } = await readJsonBody(c);
    const body = validate(submitBody, value);
    return idempotent(c, idempotencyScope("vault.submit", submitSubject(body)), text, async () => {
      const services = c.get("services");
      const data = body.signedTransaction
        ? await relaySigned(services, c.env, body.signedTransaction, body.transactionId)
        : await trackSignature(services, c.env, body.signature!, body.transactionId!);
      return { status: 202, data };
    });
  })
  .get("/transactions/:id", async (c) => {
    const id = c.req.param("id");
    if (!uuid.safeParse(id).success) {
      throw new AppError("VALIDATION_FAILED", "id must be a transaction id (UUID)", { field: "id" });
    }
    const services = c.get("services");
    const row = await findRequest(services.reads(), id);
    if (!row) throw new AppError("TRANSACTION_NOT_FOUND", `No transaction ${id}`);
    // A settled request is served from its row (one HTTP round trip, no pool).
    if (!needsRefresh(row)) return ok(c, requestView(row));
    // Read-through: a status read also asks the chain, so it is current even between the tracker's alarms.
    const fresh = await refreshRequestStatus(services, row, { kickIngestor: () => kickIngestor(c.env) }).catch(
      (err) => {
        services.log.warn("status refresh failed; serving stored status", { error: err });
        return row;
      },
    );
    return ok(c, requestView(fresh));
  });
