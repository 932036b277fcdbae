import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { balanceHistory } from "../../monitor/history.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { parseRange, RANGE_ERRORS, rangeQuery, rangeView } from "../range.ts";
import { balanceHistoryData } from "../responses.ts";
import { pubkeySchema } from "../validation.ts";

export default defineOperation({
  method: "get",
  path: "/vault/balance/{owner}/history",
  summary: "One vault's balance snapshots (written on change, and at least daily)",
  tag: "read",
  params: z.object({ owner: pubkeySchema }),
  query: rangeQuery,
  success: { status: 200, data: balanceHistoryData },
  errors: [...RANGE_ERRORS, "INVALID_PUBKEY", "VAULT_NOT_FOUND"],
  handler: async (c, { params, query }) => {
    const owner = params.owner.toBase58();
    const range = parseRange(query);
    const series = await balanceHistory(c.get("services").reads(), owner, range);
    if (!series) throw new AppError("VAULT_NOT_FOUND", `No vault or balance history for ${owner}`);
    return ok(c, { owner, ...rangeView(range), ...series });
  },
});
