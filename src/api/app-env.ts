import type { Bindings } from "../env.ts";
import type { Services } from "../platform/services.ts";

/** The Hono environment of the HTTP API: the bindings, and what middleware puts on the context. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    services: Services;
    apiKeyName?: string;
    /** The request's JSON body once read and validated (src/api/operation.ts), with its raw text. */
    body?: { text: string; value: unknown };
  };
}
