import { amountBody, BUILD_ERRORS, userBuild } from "../builds.ts";
import { defineOperation } from "../operation.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/vault/deposit",
  summary: "Build an unsigned deposit transaction",
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
    "TOKEN_ACCOUNT_NOT_FOUND",
    "TOKEN_ACCOUNT_FROZEN",
    "INSUFFICIENT_TOKEN_BALANCE",
  ],
  handler: (c, { body, bodyText }) => userBuild(c, "deposit", body, bodyText),
});
