import { relaySigned, trackSignature } from "../../vault/submit.ts";
import { idempotencyScope, idempotent } from "../idempotency.ts";
import { BODY_ERRORS, defineOperation } from "../operation.ts";
import { requestData } from "../responses.ts";
import { submitBody, submitSubject } from "../submit.ts";

export default defineOperation({
  method: "post",
  path: "/vault/submit",
  summary:
    "Relay a signed vault transaction under the builders' policy (or report the signature of one the wallet sent: accepted unverified, bound once the chain proves it is the request's) and follow it to a final status",
  tag: "relay",
  body: submitBody,
  limit: "relay",
  success: { status: 202, data: requestData },
  errors: [
    ...BODY_ERRORS,
    "INVALID_TRANSACTION",
    "INVALID_SIGNATURE",
    "PROGRAM_NOT_ALLOWED",
    "INSTRUCTION_NOT_ALLOWED",
    "AUTHORITY_NOT_AUTHORIZED",
    "TRANSACTION_FAILED",
    "BLOCKHASH_EXPIRED",
    "TRANSACTION_NOT_FOUND",
    "TRANSACTION_MISMATCH",
    "VAULT_NOT_FOUND",
  ],
  handler: (c, { body, bodyText }) =>
    idempotent(c, idempotencyScope("vault.submit", submitSubject(body)), bodyText, async () => {
      const services = c.get("services");
      const data = body.signedTransaction
        ? await relaySigned(c.env, services, body.signedTransaction, body.transactionId)
        : await trackSignature(c.env, services, body.signature!, body.transactionId!);
      return { status: 202, data };
    }),
});
