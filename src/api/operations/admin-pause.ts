import { planAdmin } from "../../vault/privileged-operations.ts";
import { defineOperation } from "../operation.ts";
import { PRIVILEGED_ERRORS, pauseBody, privilegedBuild } from "../privileged-builds.ts";
import { buildData } from "../responses.ts";

export default defineOperation({
  method: "post",
  path: "/admin/pause",
  summary: "Build an unsigned set_paused",
  tag: "admin",
  body: pauseBody,
  scope: "admin",
  limit: "privileged",
  success: { status: 200, data: buildData },
  errors: PRIVILEGED_ERRORS,
  handler: (c, { body, bodyText }) =>
    privilegedBuild(c, "admin.pause", body, bodyText, (s, b) =>
      planAdmin(s, { kind: "set_paused", admin: b.adminPubkey, paused: b.paused }),
    ),
});
