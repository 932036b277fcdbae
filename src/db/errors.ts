/**
 * Whether an error means the database could not serve the request right now (unreachable, out of connections,
 * shutting down) rather than that the request or the code is wrong: those are answered 503 with Retry-After, the
 * others 500. Looks through wrapped errors (drizzle puts the driver's error in `cause`).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    // SQLSTATE classes 08 (connection exception) and 53 (insufficient resources: too many clients, out of memory),
    // and 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now).
    if (typeof code === "string" && /^(08...|53...|57P0[123])$/.test(code)) return true;
    if (typeof message === "string" && TRANSIENT_MESSAGES.some((m) => m.test(message))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const TRANSIENT_MESSAGES = [
  // Neon's HTTP endpoint (and the local stand-in) answering 5xx: the compute or the pooler is not reachable.
  /^Server error \(HTTP status 5\d\d\)/,
  // The WebSocket/TCP connection of a pool failed or dropped.
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT/,
  /^fetch failed/i,
];

/** Whether an error is a unique-constraint violation (SQLSTATE 23505), looking through wrapped errors. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === "23505") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
