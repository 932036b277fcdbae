/** Structured JSON logs: one line per record, with the request id when there is one. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Creates a logger that writes JSON lines at or above `level`, carrying `base` fields on every record. */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const write = (at: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const error = fields?.error === undefined ? {} : { error: describeError(fields.error) };
    const record = JSON.stringify(
      { level: at, time: new Date().toISOString(), msg, ...base, ...fields, ...error },
      jsonSafe,
    );
    if (at === "error") console.error(record);
    else if (at === "warn") console.warn(record);
    else console.log(record);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  };
}

/** bigint is not JSON-serialisable; errors lose their fields. Both are written readably. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * Errors are logged by name and message only (driver errors carry whole client objects and connection strings),
 * plus their cause's, which is where a wrapped database error keeps the real reason and its SQLSTATE. A connection
 * string's password is masked wherever it appears.
 */
export function describeError(err: unknown): { name: string; message: string } {
  const own = nameAndMessage(err);
  const cause = typeof err === "object" && err !== null && "cause" in err ? (err as { cause: unknown }).cause : null;
  if (cause === null || cause === undefined) return own;
  const inner = nameAndMessage(cause);
  const code = (cause as { code?: unknown }).code;
  const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? ` [${code}]` : "";
  return { name: own.name, message: `${own.message}; cause: ${inner.name}: ${inner.message}${sqlState}` };
}

function nameAndMessage(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: maskSecrets(err.message) };
  if (typeof err === "object" && err !== null && "message" in err) {
    return { name: "Error", message: maskSecrets(String((err as { message: unknown }).message)) };
  }
  return { name: "Error", message: maskSecrets(String(err)) };
}

/** Passwords of connection strings, and the path and query of web URLs (RPC keys, webhook tokens live there). */
export function maskSecrets(text: string): string {
  return maskUrlPaths(maskPasswords(text));
}

/** `https://host/path?query` → `https://host/…`: a provider's key or a webhook's token is never logged. */
export function maskUrlPaths(text: string): string {
  return text.replace(/\b((?:https?|wss?):\/\/[^/\s?#"']+)[/?#][^\s"']*/gi, "$1/…");
}

/** `scheme://user:password@host` → `scheme://user:***@host`. */
export function maskPasswords(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi, "$1***@");
}
