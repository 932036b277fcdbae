import { tvlHistory } from "../../monitor/history.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { parseRange, RANGE_ERRORS, rangeQuery, rangeView } from "../range.ts";
import { tvlHistoryData } from "../responses.ts";

export default defineOperation({
  method: "get",
  path: "/vault/tvl/history",
  summary:
    "TVL series from the TVL job's snapshots (from/to ISO 8601, default the last 24 h; bucket raw|minute|hour|day)",
  tag: "read",
  query: rangeQuery,
  success: { status: 200, data: tvlHistoryData },
  errors: RANGE_ERRORS,
  handler: async (c, { query }) => {
    const range = parseRange(query);
    const series = await tvlHistory(c.get("services").reads(), range);
    return ok(c, { ...rangeView(range), ...series });
  },
});
