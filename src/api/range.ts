import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { BUCKET_MS, BUCKETS, MAX_POINTS, type Range } from "../monitor/history.ts";

const DEFAULT_SPAN_MS = 24 * 3_600_000;
const MAX_SPAN_MS = 366 * 86_400_000;

const timestamp = z
  .string()
  .refine((s) => z.iso.datetime({ offset: true }).safeParse(s).success || z.iso.date().safeParse(s).success, {
    message: "must be an ISO 8601 date or date-time, e.g. 2026-11-24T00:00:00Z",
    params: { apiCode: "INVALID_TIMESTAMP" },
  })
  .transform((s) => new Date(s))
  .optional();

export const rangeQuery = z.strictObject({
  from: timestamp,
  to: timestamp,
  bucket: z
    .string()
    .refine((b) => (BUCKETS as readonly string[]).includes(b), {
      message: `must be one of ${BUCKETS.join(", ")}`,
      params: { apiCode: "INVALID_BUCKET" },
    })
    .transform((b) => b as Range["bucket"])
    .default("raw"),
});

/** from/to default to the last 24 hours; from must precede to, the span be ≤ 366 days and ≤ MAX_POINTS buckets. */
export function parseRange(q: z.output<typeof rangeQuery>): Range {
  const to = q.to ?? new Date();
  const from = q.from ?? new Date(to.getTime() - DEFAULT_SPAN_MS);
  // Postgres cannot take years outside 1..9999 (e.g. to=0000-01-01 minus a day): found by the fuzz suite (issue 7).
  if (from.getUTCFullYear() < 1970 || to.getUTCFullYear() > 9999) {
    throw new AppError("INVALID_TIMESTAMP", "timestamps must fall between 1970 and 9999", { field: "from" });
  }
  const span = to.getTime() - from.getTime();
  if (span <= 0) throw new AppError("INVALID_TIME_RANGE", "from must be earlier than to", { field: "from" });
  if (span > MAX_SPAN_MS)
    throw new AppError("INVALID_TIME_RANGE", "the range must not exceed 366 days", { field: "from" });
  if (q.bucket !== "raw" && span / BUCKET_MS[q.bucket] > MAX_POINTS) {
    throw new AppError(
      "INVALID_TIME_RANGE",
      `the range holds more than ${MAX_POINTS} ${q.bucket} buckets; use a larger bucket`,
      {
        field: "bucket",
      },
    );
  }
  return { from, to, bucket: q.bucket };
}

/** A range as the API answers it. */
export const rangeView = (r: Range) => ({ from: r.from.toISOString(), to: r.to.toISOString(), bucket: r.bucket });

/** Errors of a range query. */
export const RANGE_ERRORS = ["VALIDATION_FAILED", "INVALID_TIMESTAMP", "INVALID_TIME_RANGE", "INVALID_BUCKET"] as const;
