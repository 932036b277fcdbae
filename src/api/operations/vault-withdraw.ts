import { amountBody, BUILD_ERRORS, userBuild } from "../builds.ts";
import { defineOperation } from "../operation.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/vault/withdraw",
  summary: "Build an unsigned withdraw transaction (creates the user's ATA when missing)",
  tag: "build",
  body: amountBody,
  limit: "build",
  success: { status: 200, data: buildData },
  errors: [
    ...BUILD_ERRORS,
    "VAULT_NOT_FOUND",
    "VAULT_AUTHORITY_MISSING",
    "PROGRAM_PAUSED",
    "VAULT_MINT_MISMATCH",
    "INSUFFICIENT_AVAILABLE_BALANCE",
    "INSUFFICIENT_TOKEN_BALANCE",
    "TOKEN_ACCOUNT_FROZEN",
  ],
  handler: (c, { body, bodyText }) => userBuild(c, "withdrawal", body, bodyText),
});
