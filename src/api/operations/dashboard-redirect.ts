import { defineOperation } from "../operation.ts";

export default defineOperation({
  method: "get",
  path: "/",
  summary: "Redirects to the dashboard page (/dashboard/)",
  tag: "system",
  success: { status: 302, description: "Location: /dashboard/" },
  errors: [],
  handler: (c) => c.redirect("/dashboard/", 302),
});
