import { planAdmin } from "../../vault/privileged-operations.ts";
import { defineOperation } from "../operation.ts";
import { adminBody, PRIVILEGED_ERRORS, privilegedBuild } from "../privileged-builds.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/admin/authority/initialize",
  summary: "Build an unsigned initialize_vault_authority",
  tag: "admin",
  body: adminBody,
  scope: "admin",
  limit: "privileged",
  success: { status: 200, data: buildData },
  errors: [...PRIVILEGED_ERRORS, "VAULT_AUTHORITY_EXISTS"],
  handler: (c, { body, bodyText }) =>
    privilegedBuild(c, "admin.initialize", body, bodyText, (s, b) =>
      planAdmin(s, { kind: "initialize_authority", admin: b.adminPubkey }),
    ),
});
