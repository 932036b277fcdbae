import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { VERSION } from "../lib/version.ts";
import { EVENT_SCHEMAS } from "../realtime/events.ts";
import { defineOperation, describedRoute, type Operation } from "./operation.ts";
import { OPERATIONS } from "./operations/index.ts";

/** GET /openapi.json: the document itself, generated from the operations (and describing this operation too). */
export const openApiOperation = defineOperation({
  method: "get",
  path: "/openapi.json",
  summary: "This document",
  tag: "system",
  success: {
    status: 200,
    contentType: "application/json",
    schema: z.looseObject({ openapi: z.literal("3.1.0") }).meta({ description: "An OpenAPI 3.1 document" }),
    description: "OpenAPI 3.1, not the envelope",
  },
  errors: [],
  handler: (c) => c.json(openApiDocument()),
});

let cached: ReturnType<typeof generate> | undefined;

/** The OpenAPI 3.1 document of every operation (generated once per isolate). */
export function openApiDocument() {
  cached ??= generate([...OPERATIONS, openApiOperation as Operation]);
  return cached;
}

function generate(operations: Operation[]) {
  const registry = new OpenAPIHono();
  registry.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
  });
  for (const op of operations) registry.openAPIRegistry.registerPath(describedRoute(op));
  const document = registry.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "vault-backend",
      version: VERSION,
      description:
        "Non-custodial API of the collateral vault. Every JSON response uses the envelope { success, data } / { success: false, error: { code, message } }.",
    },
  });
  // The WebSocket contract (GET /ws/{owner}): each event's `data`, from the same zod schemas the publishers use.
  const events = Object.fromEntries(
    Object.entries(EVENT_SCHEMAS).map(([name, schema]) => [
      `WsEvent_${name}`,
      z.toJSONSchema(schema, { io: "output", target: "draft-2020-12" }),
    ]),
  );
  return {
    ...document,
    components: { ...document.components, schemas: { ...document.components?.schemas, ...events } },
  };
}
