import type { IncomingMessage, ServerResponse } from "node:http";
import pg from "pg";

/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint (`POST /sql`), which `neon()` from @neondatabase/serverless
 * (and drizzle-orm/neon-http) speaks: one query `{query, params}` or a batch `{queries: [...]}` run in one
 * transaction, the target in the `Neon-Connection-String` header. Answers as the driver expects: `fields` (name,
 * dataTypeID, …), `rows` as arrays of text values (the driver parses them by type), `command`, `rowCount`,
 * `rowAsArray`; a Postgres error is a 400 whose JSON carries `message`, `code` (SQLSTATE) and the other fields the
 * driver copies onto NeonDbError. One `pg` pool per connection string, as Neon's pooler keeps, and only loopback
 * database hosts, as the WebSocket tunnel allows.
 */
export interface SqlEndpoint {
  /** Answers `POST /sql`; returns false (untouched) for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends every pool. */
  close(): Promise<void>;
}

/** The only hosts the local Neon proxy connects to (WebSocket tunnel and /sql alike): never an open relay. */
export const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** The fields of a Postgres error the driver copies onto NeonDbError (index.mjs, `hi`). */
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;
const ISOLATION: Record<string, string> = {
  ReadUncommitted: "read uncommitted",
  ReadCommitted: "read committed",
  RepeatableRead: "repeatable read",
  Serializable: "serializable",
};
/** Every value stays the text Postgres sent (`Neon-Raw-Text-Output: true`): the driver parses by dataTypeID. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

interface Statement {
  query: string;
  params: unknown[];
}

class RequestError extends Error {}

export function createSqlEndpoint(opts: { poolSize?: number } = {}): SqlEndpoint {
  const pools = new Map<string, pg.Pool>();
  const poolFor = (connectionString: string): pg.Pool => {
    let pool = pools.get(connectionString);
    if (!pool) {
      pool = new pg.Pool({ connectionString, max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
      // An idle client dropped by the server must not crash the process; the next query reconnects.
      pool.on("error", () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  };

  const answer = async (req: IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const connectionString = checkTarget(req.headers["neon-connection-string"]);
    const payload = parseBody(await readBody(req));
    const format = {
      arrayMode: req.headers["neon-array-mode"] === "true",
      rawText: req.headers["neon-raw-text-output"] === "true",
    };
    const pool = poolFor(connectionString);
    if (!("queries" in payload)) return { status: 200, body: await run(pool, payload, format) };
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query(beginStatement(req.headers));
      const results = [];
      try {
        for (const statement of payload.queries) results.push(await run(client, statement, format));
        await client.query("commit");
      } catch (err) {
        await client.query("rollback").catch(() => {
          broken = true;
        });
        throw err;
      }
      return { status: 200, body: { results } };
    } finally {
      client.release(broken);
    }
  };

  return {
    handle(req, res) {
      const path = new URL(req.url ?? "/", "http://endpoint").pathname;
      if (path !== "/sql") return false;
      if (req.method !== "POST") {
        send(res, 405, { message: "POST /sql only" });
        return true;
      }
      answer(req).then(
        ({ status, body }) => send(res, status, body),
        (err: unknown) => {
          if (err instanceof RequestError) send(res, 400, { message: err.message });
          else if (err instanceof pg.DatabaseError) send(res, 400, errorBody(err));
          // Not a Postgres answer (unreachable server, …): the driver reports it as a server error with this text.
          else send(res, 502, { message: `database unreachable: ${(err as Error)?.message ?? String(err)}` });
        },
      );
      return true;
    },
    close: async () => {
      const ending = [...pools.values()].map((pool) => pool.end().catch(() => {}));
      pools.clear();
      await Promise.all(ending);
    },
  };
}

/** One statement through the extended protocol (like Neon's endpoint: one statement, no `;`-separated scripts). */
async function run(
  client: pg.Pool | pg.PoolClient,
  statement: Statement,
  format: { arrayMode: boolean; rawText: boolean },
) {
  // queryMode is pg's (8.11+) but missing from @types/pg.
  const config: pg.QueryArrayConfig & { queryMode: "extended" } = {
    text: statement.query,
    values: statement.params,
    rowMode: "array",
    queryMode: "extended",
    ...(format.rawText ? { types: RAW_TEXT } : {}),
  };
  const result = await client.query(config);
  const fields = result.fields.map((f) => ({
    name: f.name,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeID: f.dataTypeID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: f.format,
  }));
  const rows = format.arrayMode
    ? result.rows
    : result.rows.map((row: unknown[]) => Object.fromEntries(fields.map((f, i) => [f.name, row[i]])));
  return { command: result.command, rowCount: result.rowCount, fields, rows, rowAsArray: format.arrayMode };
}

function beginStatement(headers: IncomingMessage["headers"]): string {
  const parts = ["begin"];
  const isolation = headers["neon-batch-isolation-level"];
  if (typeof isolation === "string") {
    const level = ISOLATION[isolation];
    if (!level) throw new RequestError(`unknown Neon-Batch-Isolation-Level ${isolation}`);
    parts.push(`isolation level ${level}`);
  }
  if (headers["neon-batch-read-only"] === "true") parts.push("read only");
  if (headers["neon-batch-deferrable"] === "true") parts.push("deferrable");
  return parts.join(" ");
}

/** The connection string must name a loopback host, so the endpoint never reaches another machine. */
function checkTarget(header: string | string[] | undefined): string {
  if (typeof header !== "string" || header === "") throw new RequestError("missing Neon-Connection-String header");
  let url: URL;
  try {
    url = new URL(header);
  } catch {
    throw new RequestError("Neon-Connection-String is not a valid URL");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new RequestError("Neon-Connection-String must be a postgres:// URL");
  }
  if (!LOOPBACK.has(url.hostname)) throw new RequestError("only loopback database hosts are allowed");
  return header;
}

function parseBody(text: string): Statement | { queries: Statement[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RequestError("the body is not JSON");
  }
  if (typeof body === "object" && body !== null && "queries" in body) {
    const { queries } = body as { queries: unknown };
    if (!Array.isArray(queries)) throw new RequestError("queries must be an array");
    return { queries: queries.map(statementOf) };
  }
  return statementOf(body);
}

function statementOf(value: unknown): Statement {
  const { query, params } = (value ?? {}) as { query?: unknown; params?: unknown };
  if (typeof query !== "string") throw new RequestError("query must be a string");
  if (params !== undefined && !Array.isArray(params)) throw new RequestError("params must be an array");
  return { query, params: params ?? [] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is drained, not kept, so the 400 can still be answered on this connection.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () =>
      size > MAX_BODY_BYTES
        ? reject(new RequestError(`the body exceeds ${MAX_BODY_BYTES} bytes`))
        : resolve(Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

function errorBody(err: pg.DatabaseError): Record<string, unknown> {
  const body: Record<string, unknown> = { message: err.message };
  for (const field of ERROR_FIELDS) if (err[field] !== undefined) body[field] = err[field];
  return body;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
