import { planAdmin } from "../../vault/privileged-operations.ts";
import { defineOperation } from "../operation.ts";
import { PRIVILEGED_ERRORS, privilegedBuild, programListBody } from "../privileged-builds.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/admin/authority/programs/add",
  summary: "Build an unsigned add_authorized_program",
  tag: "admin",
  body: programListBody,
  scope: "admin",
  limit: "privileged",
  success: { status: 200, data: buildData },
  errors: [...PRIVILEGED_ERRORS, "AUTHORIZED_LIST_FULL"],
  handler: (c, { body, bodyText }) =>
    privilegedBuild(c, "admin.add", body, bodyText, (s, b) =>
      planAdmin(s, { kind: "add_authorized_program", admin: b.adminPubkey, program: b.programId }),
    ),
});
