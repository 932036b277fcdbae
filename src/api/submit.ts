import { z } from "zod";
import { readWireTransaction } from "../vault/relay.ts";

export const uuid = z.uuid({ error: "must be a transaction id (UUID)" });
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
export function submitSubject(body: z.output<typeof submitBody>): string {
  if (body.transactionId && body.signature) return body.transactionId;
  try {
    return (
      readWireTransaction(body.signedTransaction ?? "").tx.message.staticAccountKeys[0]?.toBase58() ?? "unreadable"
    );
  } catch {
    return "unreadable";
  }
}
