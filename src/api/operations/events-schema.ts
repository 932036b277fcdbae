import { z } from "zod";
import { eventsJsonSchema } from "../../realtime/events.ts";
import { defineOperation } from "../operation.ts";

export default defineOperation({
  method: "get",
  path: "/events/schema.json",
  summary:
    "The WebSocket contract as JSON Schema: the envelope { event, data, timestamp, seq } and each event's data (also in this document's components as WsEvent_<event>)",
  tag: "realtime",
  success: {
    status: 200,
    contentType: "application/json",
    schema: z.looseObject({}).meta({ description: "A JSON Schema (draft 2020-12) document" }),
    description: "JSON Schema, not the envelope",
  },
  errors: [],
  handler: (c) => c.json(eventsJsonSchema()),
});
