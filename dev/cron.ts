/**
 * `wrangler dev` does not fire Cron Triggers by itself; `npm run dev` does, through wrangler's local endpoint
 * `/cdn-cgi/local/scheduled?cron=…`, at each minute that matches a trigger of wrangler.toml.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./stack.ts";

/** The cron expressions of `[triggers] crons` in wrangler.toml. */
export async function wranglerCrons(): Promise<string[]> {
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const list = /^\s*crons\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

/** True when one cron field (`*`, `*\/n`, `a-b`, `a,b`, `a-b/n`) admits `value`. */
function fieldMatches(field: string, value: number, min: number): boolean {
  return field.split(",").some((part) => {
    const [range, stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [min, Number.MAX_SAFE_INTEGER];
    else if (range!.includes("-")) [lo, hi] = range!.split("-").map(Number) as [number, number];
    else [lo, hi] = [Number(range), stepText ? Number.MAX_SAFE_INTEGER : Number(range)];
    return value >= lo && value <= hi && (value - lo) % step === 0;
  });
}

/** True when a five-field cron expression matches the given UTC minute. */
export function cronMatches(expression: string, at: Date): boolean {
  const [minute, hour, day, month, weekday] = expression.trim().split(/\s+/);
  if (weekday === undefined) return false;
  return (
    fieldMatches(minute!, at.getUTCMinutes(), 0) &&
    fieldMatches(hour!, at.getUTCHours(), 0) &&
    fieldMatches(day!, at.getUTCDate(), 1) &&
    fieldMatches(month!, at.getUTCMonth() + 1, 1) &&
    fieldMatches(weekday!, at.getUTCDay(), 0)
  );
}

/** Fires the given triggers once through wrangler's local scheduled endpoint. */
export async function fireCrons(apiUrl: string, crons: string[], log: (line: string) => void): Promise<void> {
  for (const cron of crons) {
    try {
      const res = await fetch(`${apiUrl}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`);
      await res.body?.cancel();
      if (!res.ok) log(`cron "${cron}" answered ${res.status}`);
    } catch (err) {
      log(`cron "${cron}" failed: ${err instanceof Error ? err.message : err}`);
    }
  }
}

/** Fires the matching triggers at the start of every minute; returns a stop function. */
export function startCronTicker(apiUrl: string, crons: string[], log: (line: string) => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const tick = async () => {
    const now = new Date();
    await fireCrons(
      apiUrl,
      crons.filter((c) => cronMatches(c, now)),
      log,
    );
    timer = setTimeout(tick, 60_000 - (Date.now() % 60_000));
  };
  timer = setTimeout(tick, 60_000 - (Date.now() % 60_000));
  return () => clearTimeout(timer);
}
