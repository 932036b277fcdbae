import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";

describe("the response envelope", () => {
  it("answers an unknown route with 404 NOT_FOUND", async () => {
    const { status, body } = await call("/no/such/route");
    expect(status).toBe(404);
    expect(body).toEqual({ success: false, error: { code: "NOT_FOUND", message: "No route for GET /no/such/route" } });
  });

  it("answers a wrong method with 405 METHOD_NOT_ALLOWED and an Allow header", async () => {
    const { status, headers, body } = await call("/health", { method: "DELETE" });
    expect(status).toBe(405);
    expect(headers.get("allow")).toBe("GET");
    expect(body.success).toBe(false);
    expect(body.error?.code).toBe("METHOD_NOT_ALLOWED");
  });

  it("echoes a request id, or makes one", async () => {
    const given = await call("/health", { headers: { "x-request-id": "trace-123" } });
    expect(given.headers.get("x-request-id")).toBe("trace-123");
    const made = await call("/health");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
