import { z } from "zod";
import { EVENT_SCHEMAS } from "../realtime/events.ts";
import { ERROR_STATUS, type ErrorCode } from "./errors.ts";
import { balanceData, buildData, healthData, historyData, nonceData, requestData, tvlData } from "./responses.ts";
import { VERSION } from "./routes/health.ts";
import { adminBody, lockBody, pauseBody, programListBody, transferBody } from "./routes/privileged.ts";
import { submitBody } from "./routes/transactions.ts";
import { amountBody, initializeBody } from "./routes/vault-build.ts";
import { historyQuery } from "./routes/vault-read.ts";

/** One documented operation; request schemas are the same zod schemas the routes validate with. */
export interface DocumentedRoute {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  scope?: "service" | "admin";
  success: number;
  /** Schema of the envelope's `data` on success (src/api/responses.ts); undescribed bodies are `data: {}`. */
  data?: z.ZodType;
  /** The success body's media type when it is not the JSON envelope (e.g. /metrics). */
  successContentType?: "text/plain";
  errors: ErrorCode[];
}

const COMMON: ErrorCode[] = ["INTERNAL_ERROR", "CONFIG_INVALID", "UPSTREAM_UNAVAILABLE"];
const BODY: ErrorCode[] = [
  "INVALID_JSON",
  "VALIDATION_FAILED",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "IDEMPOTENCY_KEY_INVALID",
  "IDEMPOTENCY_KEY_REUSED",
  "IDEMPOTENCY_KEY_IN_PROGRESS",
];
const BUILD: ErrorCode[] = [...BODY, "INVALID_PUBKEY", "INVALID_AMOUNT", "INSUFFICIENT_SOL", "TRANSACTION_FAILED"];
const PRIVILEGED: ErrorCode[] = [...BUILD, "UNAUTHORIZED", "FORBIDDEN", "VAULT_AUTHORITY_MISSING"];

/** Routes known to the API's own code; other modules may add theirs with `documentRoutes`. */
const routes: DocumentedRoute[] = [
  { method: "get", path: "/openapi.json", summary: "This document", tag: "system", success: 200, errors: [] },
  {
    method: "get",
    path: "/events/schema.json",
    summary:
      "The WebSocket contract as JSON Schema: the envelope { event, data, timestamp, seq } and each event's data (also in this document's components as WsEvent_<event>)",
    tag: "realtime",
    success: 200,
    errors: [],
  },
  {
    method: "get",
    path: "/docs",
    summary: "Human-readable API reference (HTML)",
    tag: "system",
    success: 200,
    errors: [],
  },
  {
    method: "get",
    path: "/health",
    summary: "Database and RPC health",
    tag: "system",
    success: 200,
    errors: ["SERVICE_UNAVAILABLE"],
  },
  {
    method: "post",
    path: "/vault/initialize",
    summary: "Build an unsigned initialize_vault transaction",
    tag: "build",
    body: initializeBody,
    success: 200,
    errors: [...BUILD, "VAULT_ALREADY_EXISTS", "VAULT_TOKEN_ACCOUNT_EXISTS", "SERVICE_UNAVAILABLE"],
  },
  {
    method: "post",
    path: "/vault/deposit",
    summary: "Build an unsigned deposit transaction",
    tag: "build",
    body: amountBody,
    success: 200,
    errors: [
      ...BUILD,
      "VAULT_NOT_FOUND",
      "VAULT_AUTHORITY_MISSING",
      "PROGRAM_PAUSED",
      "VAULT_MINT_MISMATCH",
      "TOKEN_ACCOUNT_NOT_FOUND",
      "TOKEN_ACCOUNT_FROZEN",
      "INSUFFICIENT_TOKEN_BALANCE",
    ],
  },
  {
    method: "post",
    path: "/vault/withdraw",
    summary: "Build an unsigned withdraw transaction (creates the user's ATA when missing)",
    tag: "build",
    body: amountBody,
    success: 200,
    errors: [
      ...BUILD,
      "VAULT_NOT_FOUND",
      "VAULT_AUTHORITY_MISSING",
      "PROGRAM_PAUSED",
      "VAULT_MINT_MISMATCH",
      "INSUFFICIENT_AVAILABLE_BALANCE",
      "INSUFFICIENT_TOKEN_BALANCE",
      "TOKEN_ACCOUNT_FROZEN",
    ],
  },
  {
    method: "post",
    path: "/vault/submit",
    summary:
      "Relay a signed vault transaction under the builders' policy (or report the signature of one the wallet sent: accepted unverified, bound once the chain proves it is the request's) and follow it to a final status",
    tag: "relay",
    body: submitBody,
    success: 202,
    errors: [
      ...BODY,
      "INVALID_TRANSACTION",
      "INVALID_SIGNATURE",
      "PROGRAM_NOT_ALLOWED",
      "INSTRUCTION_NOT_ALLOWED",
      "AUTHORITY_NOT_AUTHORIZED",
      "TRANSACTION_FAILED",
      "BLOCKHASH_EXPIRED",
      "TRANSACTION_NOT_FOUND",
      "TRANSACTION_MISMATCH",
      "VAULT_NOT_FOUND",
    ],
  },
  {
    method: "get",
    path: "/transactions/{id}",
    summary: "Status of a request: pending → submitted → confirmed → finalized, or failed / expired",
    tag: "relay",
    success: 200,
    errors: ["VALIDATION_FAILED", "TRANSACTION_NOT_FOUND"],
  },
  {
    method: "get",
    path: "/vault/balance/{owner}",
    summary: "Vault balance (cache, or the chain when the cache is missing or stale)",
    tag: "read",
    success: 200,
    errors: ["INVALID_PUBKEY", "VAULT_NOT_FOUND"],
  },
  {
    method: "get",
    path: "/vault/transactions/{owner}",
    summary: "Transaction history, newest first",
    tag: "read",
    query: historyQuery,
    success: 200,
    errors: ["INVALID_PUBKEY", "VALIDATION_FAILED"],
  },
  { method: "get", path: "/vault/tvl", summary: "Total value locked", tag: "read", success: 200, errors: [] },
  {
    method: "post",
    path: "/vault/lock",
    summary: "Build an unsigned lock_collateral for an authorized authority",
    tag: "service",
    body: lockBody,
    scope: "service",
    success: 200,
    errors: [
      ...PRIVILEGED,
      "VAULT_NOT_FOUND",
      "PROGRAM_PAUSED",
      "AUTHORITY_NOT_AUTHORIZED",
      "INSUFFICIENT_AVAILABLE_BALANCE",
    ],
  },
  {
    method: "post",
    path: "/vault/unlock",
    summary: "Build an unsigned unlock_collateral for an authorized authority",
    tag: "service",
    body: lockBody,
    scope: "service",
    success: 200,
    errors: [
      ...PRIVILEGED,
      "VAULT_NOT_FOUND",
      "PROGRAM_PAUSED",
      "AUTHORITY_NOT_AUTHORIZED",
      "INSUFFICIENT_LOCKED_BALANCE",
    ],
  },
  {
    method: "post",
    path: "/vault/transfer",
    summary: "Build an unsigned transfer_collateral between two vaults",
    tag: "service",
    body: transferBody,
    scope: "service",
    success: 200,
    errors: [
      ...PRIVILEGED,
      "VAULT_NOT_FOUND",
      "PROGRAM_PAUSED",
      "AUTHORITY_NOT_AUTHORIZED",
      "INSUFFICIENT_TOTAL_BALANCE",
      "VAULT_MINT_MISMATCH",
    ],
  },
  {
    method: "post",
    path: "/admin/authority/initialize",
    summary: "Build an unsigned initialize_vault_authority",
    tag: "admin",
    body: adminBody,
    scope: "admin",
    success: 200,
    errors: [...PRIVILEGED, "VAULT_AUTHORITY_EXISTS"],
  },
  {
    method: "post",
    path: "/admin/authority/programs/add",
    summary: "Build an unsigned add_authorized_program",
    tag: "admin",
    body: programListBody,
    scope: "admin",
    success: 200,
    errors: [...PRIVILEGED, "AUTHORIZED_LIST_FULL"],
  },
  {
    method: "post",
    path: "/admin/authority/programs/remove",
    summary: "Build an unsigned remove_authorized_program",
    tag: "admin",
    body: programListBody,
    scope: "admin",
    success: 200,
    errors: PRIVILEGED,
  },
  {
    method: "post",
    path: "/admin/pause",
    summary: "Build an unsigned set_paused",
    tag: "admin",
    body: pauseBody,
    scope: "admin",
    success: 200,
    errors: PRIVILEGED,
  },
  {
    method: "post",
    path: "/webhooks/helius",
    summary:
      "Helius webhook (raw or enhanced, batched arrays); `Authorization` must equal HELIUS_WEBHOOK_SECRET. Feeds the ingestion pipeline",
    tag: "ingest",
    success: 200,
    errors: ["UNAUTHORIZED", "INVALID_JSON", "PAYLOAD_TOO_LARGE", "VALIDATION_FAILED"],
  },
  {
    method: "get",
    path: "/ws/{owner}",
    summary:
      "WebSocket of the owner's events: messages { event, data, timestamp, seq }; a snapshot on connect; ?since=<seq> replays missed events (or sends resync). A connection subscribes the owner (events are recorded while the owner listens and SUBSCRIPTION_TTL after, so an older since gets resync). ?nonce=&signature= (GET /ws/{owner}/nonce, signed by the owner's wallet) authenticates the socket. Close codes: 4400 invalid owner, 4401 sign-in failed, 4429 too many anonymous sockets for the owner or the client",
    tag: "realtime",
    success: 101,
    errors: ["UPGRADE_REQUIRED", "RATE_LIMITED", "SERVICE_UNAVAILABLE"],
  },
  {
    method: "get",
    path: "/ws/{owner}/nonce",
    summary:
      "A single-use sign-in nonce and the exact message (Sign-In With Solana layout) the owner's wallet signs (signMessage, ed25519) to open an authenticated socket: /ws/{owner}?nonce=<nonce>&signature=<base58 signature>. Valid WS_AUTH_NONCE_TTL seconds",
    tag: "realtime",
    success: 200,
    errors: ["INVALID_PUBKEY", "RATE_LIMITED", "SERVICE_UNAVAILABLE"],
  },
];

/** The success `data` of the operations frontends call most (src/api/responses.ts), by "method path". */
const BUILDS = [
  "/vault/initialize",
  "/vault/deposit",
  "/vault/withdraw",
  "/vault/lock",
  "/vault/unlock",
  "/vault/transfer",
];
export const RESPONSE_DATA: Record<string, z.ZodType> = {
  "get /health": healthData,
  ...Object.fromEntries(BUILDS.map((path) => [`post ${path}`, buildData])),
  "get /vault/balance/{owner}": balanceData,
  "get /vault/transactions/{owner}": historyData,
  "get /vault/tvl": tvlData,
  "get /transactions/{id}": requestData,
  "get /ws/{owner}/nonce": nonceData,
};

/** Adds routes defined elsewhere (ingestion, jobs, monitor) to the document. */
export function documentRoutes(extra: DocumentedRoute[]): void {
  routes.push(...extra);
}

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
};

function queryParameters(schema: z.ZodType) {
  const json = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: "query",
    required: json.required?.includes(name) ?? false,
    schema: s,
  }));
}

const pathParameters = (path: string) =>
  [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));

/** The OpenAPI 3.1 document, generated from the routes' zod schemas and error codes. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const codes = [...new Set([...r.errors, ...COMMON])];
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    const data = r.data ?? RESPONSE_DATA[`${r.method} ${r.path}`];
    const responses: Record<string, unknown> = {
      [r.success]: {
        description: "Success",
        content: r.successContentType
          ? { [r.successContentType]: { schema: { type: "string" } } }
          : {
              "application/json": {
                schema: data
                  ? {
                      type: "object",
                      required: ["success", "data"],
                      properties: {
                        success: { const: true },
                        data: z.toJSONSchema(data, { io: "output", target: "draft-2020-12" }),
                      },
                    }
                  : { $ref: "#/components/schemas/Success" },
              },
            },
      },
    };
    for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      responses[status] = {
        description: list.join(", "),
        content: {
          "application/json": {
            schema: { $ref: "#/components/schemas/Error" },
            examples: Object.fromEntries(
              list.map((code) => [code, { value: { success: false, error: { code, message: "…" } } }]),
            ),
          },
        },
      };
    }
    paths[r.path] = {
      ...paths[r.path],
      [r.method]: {
        summary: r.summary,
        tags: [r.tag],
        parameters: [
          ...pathParameters(r.path),
          ...(r.query ? queryParameters(r.query) : []),
          ...(r.body && r.method === "post"
            ? [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 128 } }]
            : []),
        ],
        ...(r.body
          ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } } }
          : {}),
        ...(r.scope ? { security: [{ apiKey: [] }], "x-required-scope": r.scope } : {}),
        responses,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "vault-backend",
      version: VERSION,
      description:
        "Non-custodial API of the collateral vault. Every response uses the envelope { success, data } / { success: false, error: { code, message } }.",
    },
    paths,
    components: {
      securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "x-api-key" } },
      schemas: {
        // The WebSocket contract (GET /ws/{owner}): each event's `data`, from the same zod schemas the publishers use.
        ...Object.fromEntries(
          Object.entries(EVENT_SCHEMAS).map(([name, schema]) => [
            `WsEvent_${name}`,
            z.toJSONSchema(schema, { io: "output", target: "draft-2020-12" }),
          ]),
        ),
        Success: { type: "object", required: ["success", "data"], properties: { success: { const: true }, data: {} } },
        Error: {
          type: "object",
          required: ["success", "error"],
          properties: {
            success: { const: false },
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: { enum: Object.keys(ERROR_STATUS) },
                message: { type: "string" },
                details: { type: "object" },
              },
            },
          },
        },
      },
    },
  };
}
