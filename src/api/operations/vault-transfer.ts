import { planTransfer } from "../../vault/privileged-operations.ts";
import { defineOperation } from "../operation.ts";
import { PRIVILEGED_ERRORS, privilegedBuild, transferBody } from "../privileged-builds.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/vault/transfer",
  summary: "Build an unsigned transfer_collateral between two vaults",
  tag: "service",
  body: transferBody,
  scope: "service",
  limit: "privileged",
  success: { status: 200, data: buildData },
  errors: [
    ...PRIVILEGED_ERRORS,
    "VAULT_NOT_FOUND",
    "PROGRAM_PAUSED",
    "AUTHORITY_NOT_AUTHORIZED",
    "INSUFFICIENT_TOTAL_BALANCE",
    "VAULT_MINT_MISMATCH",
  ],
  handler: (c, { body, bodyText }) =>
    privilegedBuild(c, "vault.transfer", body, bodyText, (s, b) =>
      planTransfer(s, {
        authority: b.authorityPubkey,
        from: b.fromOwner,
        to: b.toOwner,
        amount: b.amount,
        reason: b.reason,
      }),
    ),
});
