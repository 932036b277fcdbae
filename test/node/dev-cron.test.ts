import { describe, expect, it } from "vitest";
import { cronMatches, wranglerCrons } from "../../dev/cron.ts";

const at = (iso: string) => new Date(iso);

describe("the dev cron ticker's matcher", () => {
  it("matches steps, ranges, lists and wildcards in UTC", () => {
    expect(cronMatches("*/5 * * * *", at("2026-11-24T10:15:00Z"))).toBe(true);
    expect(cronMatches("*/5 * * * *", at("2026-11-24T10:16:00Z"))).toBe(false);
    expect(cronMatches("* * * * *", at("2026-11-24T10:16:00Z"))).toBe(true);
    expect(cronMatches("0 */6 * * *", at("2026-11-24T12:00:00Z"))).toBe(true);
    expect(cronMatches("0 */6 * * *", at("2026-11-24T13:00:00Z"))).toBe(false);
    expect(cronMatches("30 9 * * 1-5", at("2026-11-24T09:30:00Z"))).toBe(true); // a Tuesday
    expect(cronMatches("30 9 * * 0,6", at("2026-11-24T09:30:00Z"))).toBe(false);
    expect(cronMatches("not a cron", at("2026-11-24T09:30:00Z"))).toBe(false);
  });

  it("reads the triggers declared in wrangler.toml", async () => {
    const crons = await wranglerCrons();
    expect(crons.length).toBeGreaterThan(0);
    for (const c of crons) expect(c.split(/\s+/)).toHaveLength(5);
  });
});
