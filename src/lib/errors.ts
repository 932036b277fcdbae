import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The closed list of error codes this API returns, each with its one HTTP status. Codes are part of the public
 * contract (README, OpenAPI): add new ones, never rename or repurpose one.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  INVALID_PUBKEY: 400,
  INVALID_AMOUNT: 400,
  INVALID_TRANSACTION: 400,
  INVALID_SIGNATURE: 400,
  PROGRAM_NOT_ALLOWED: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_KEY_IN_PROGRESS: 409,
  VAULT_ALREADY_EXISTS: 409,
  VAULT_TOKEN_ACCOUNT_EXISTS: 409,
  VAULT_MINT_MISMATCH: 409,
  VAULT_AUTHORITY_MISSING: 409,
  VAULT_AUTHORITY_EXISTS: 409,
  PROGRAM_PAUSED: 409,
  TRANSACTION_MISMATCH: 409,
  INSUFFICIENT_AVAILABLE_BALANCE: 422,
  INSUFFICIENT_LOCKED_BALANCE: 422,
  INSUFFICIENT_TOTAL_BALANCE: 422,
  INSUFFICIENT_TOKEN_BALANCE: 422,
  TOKEN_ACCOUNT_NOT_FOUND: 422,
  TOKEN_ACCOUNT_FROZEN: 422,
  INSUFFICIENT_SOL: 422,
  AUTHORIZED_LIST_FULL: 422,
  TRANSACTION_FAILED: 422,
  BLOCKHASH_EXPIRED: 422,
  AUTHORITY_NOT_AUTHORIZED: 403,
  INSTRUCTION_NOT_ALLOWED: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UPGRADE_REQUIRED: 426,
  VAULT_NOT_FOUND: 404,
  TRANSACTION_NOT_FOUND: 404,
  INVALID_TIMESTAMP: 400,
  INVALID_TIME_RANGE: 400,
  INVALID_BUCKET: 400,
  INVALID_ALERT_ID: 400,
  ALERT_NOT_FOUND: 404,
  ALERT_ALREADY_RESOLVED: 409,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  UPSTREAM_UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
  INTERNAL_ERROR: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error that leaves the API as `{ success: false, error: { code, message } }` with the code's status. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}
