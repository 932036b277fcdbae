import { BUILD_ERRORS, initializeBody, userBuild } from "../builds.ts";
import { defineOperation } from "../operation.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/vault/initialize",
  summary: "Build an unsigned initialize_vault transaction",
  tag: "build",
  body: initializeBody,
  limit: "build",
  success: { status: 200, data: buildData },
  errors: [...BUILD_ERRORS, "VAULT_ALREADY_EXISTS", "VAULT_TOKEN_ACCOUNT_EXISTS", "SERVICE_UNAVAILABLE"],
  handler: (c, { body, bodyText }) => userBuild(c, "initialize", body, bodyText),
});
