import { defineOperation } from "../operation.ts";
import { lockBody, lockOrUnlock, PRIVILEGED_ERRORS, privilegedBuild } from "../privileged-builds.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/vault/unlock",
  summary: "Build an unsigned unlock_collateral for an authorized authority",
  tag: "service",
  body: lockBody,
  scope: "service",
  limit: "privileged",
  success: { status: 200, data: buildData },
  errors: [
    ...PRIVILEGED_ERRORS,
    "VAULT_NOT_FOUND",
    "PROGRAM_PAUSED",
    "AUTHORITY_NOT_AUTHORIZED",
    "INSUFFICIENT_LOCKED_BALANCE",
  ],
  handler: (c, { body, bodyText }) => privilegedBuild(c, "vault.unlock", body, bodyText, lockOrUnlock("unlock")),
});
