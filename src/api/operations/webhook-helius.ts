import type { Bindings } from "../../env.ts";
import { INGESTED } from "../../ingest/ingestor.ts";
import { ingestSignatures } from "../../ingest/pipeline.ts";
import { AppError } from "../../lib/errors.ts";
import { backgroundServices } from "../../platform/services.ts";
import { kickIngestor } from "../../platform/stubs.ts";
import { matchApiKey } from "../auth.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { webhookData } from "../responses.ts";

/** Helius batches up to 100 transactions; raw ones are large, so this route has its own limit. */
const MAX_WEBHOOK_BYTES = 4 * 1024 * 1024;
const SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,88}$/;

/**
 * POST /webhooks/helius — push fast path. Checks the `Authorization` secret in constant time (401 otherwise),
 * acknowledges at once, and ingests the delivered signatures in the background through the same pipeline as the
 * poll (the transactions are re-read from the RPC, so the payload is only a hint and a duplicate is harmless).
 */
export default defineOperation({
  method: "post",
  path: "/webhooks/helius",
  summary:
    "Helius webhook (raw or enhanced, batched arrays); `Authorization` must equal HELIUS_WEBHOOK_SECRET. Feeds the ingestion pipeline",
  tag: "ingest",
  maxBodyBytes: MAX_WEBHOOK_BYTES,
  success: { status: 200, data: webhookData },
  errors: ["UNAUTHORIZED", "INVALID_JSON", "PAYLOAD_TOO_LARGE", "VALIDATION_FAILED"],
  handler: async (c) => {
    const { config } = c.get("services");
    const presented = c.req.header("authorization") ?? "";
    const secret = config.heliusWebhookSecret;
    const match = secret ? await matchApiKey([{ name: "helius", scope: "service", key: secret }], presented) : null;
    if (!match) throw new AppError("UNAUTHORIZED", "Missing or wrong webhook Authorization header");
    const body = await readBody(c.req.raw);
    const signatures = extractSignatures(body);
    if (signatures.length > 0) c.executionCtx.waitUntil(ingestInBackground(c.env, signatures));
    return ok(c, { accepted: signatures.length });
  },
});

async function readBody(request: Request): Promise<unknown> {
  if (Number(request.headers.get("content-length") ?? 0) > MAX_WEBHOOK_BYTES) {
    throw new AppError("PAYLOAD_TOO_LARGE", `The body must not exceed ${MAX_WEBHOOK_BYTES} bytes`);
  }
  const text = await request.text();
  if (text.length > MAX_WEBHOOK_BYTES) {
    throw new AppError("PAYLOAD_TOO_LARGE", `The body must not exceed ${MAX_WEBHOOK_BYTES} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("INVALID_JSON", "The body is not valid JSON");
  }
}

/**
 * Signatures of a Helius payload: an array (or one object) of enhanced transactions (`signature`) or raw ones
 * (`transaction.signatures[0]`). Anything else is ignored.
 */
export function extractSignatures(body: unknown): string[] {
  const items = Array.isArray(body) ? body : [body];
  const out = new Set<string>();
  for (const item of items) {
    if (typeof item !== "object" || item === null) continue;
    const enhanced = (item as { signature?: unknown }).signature;
    const raw = (item as { transaction?: { signatures?: unknown } }).transaction?.signatures;
    const sig = typeof enhanced === "string" ? enhanced : Array.isArray(raw) ? raw[0] : undefined;
    if (typeof sig === "string" && SIGNATURE.test(sig)) out.add(sig);
  }
  return [...out];
}

/** Runs after the response, with its own services (the request's pool is closed when the response is sent). */
async function ingestInBackground(env: Bindings, signatures: string[]): Promise<void> {
  const services = backgroundServices(env, { source: "helius-webhook" }, "ingest");
  try {
    const committed = await ingestSignatures(env, services, signatures);
    services.metrics.count(INGESTED, { path: "webhook" }, committed);
    await kickIngestor(env);
  } catch (err) {
    services.log.warn("webhook ingestion failed; the poll will pick the transactions up", { error: err });
  } finally {
    await services.close();
  }
}
