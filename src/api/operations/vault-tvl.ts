import { currentTvl } from "../../vault/tvl.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { tvlData } from "../responses.ts";

export default defineOperation({
  method: "get",
  path: "/vault/tvl",
  summary: "Total value locked",
  tag: "read",
  success: { status: 200, data: tvlData },
  errors: [],
  handler: async (c) => ok(c, await currentTvl(c.get("services"))),
});
