import { describe, expect, it } from "vitest";
import { call, callWithEnv } from "./helpers.ts";

describe("GET /health", () => {
  it("reports healthy with a real database round trip and a real RPC check", async () => {
    const { status, body } = await call("/health");
    expect(status).toBe(200);
    expect(body).toEqual({
      success: true,
      data: { status: "healthy", database: true, solanaRpc: true, version: "0.1.0" },
    });
  });

  it("answers 503 in the same envelope when the database is unreachable", async () => {
    const { status, body } = await callWithEnv(
      { DATABASE_URL: "postgres://postgres:postgres@127.0.0.1:1/nowhere" },
      "/health",
    );
    expect(status).toBe(503);
    expect(body).toEqual({
      success: true,
      data: { status: "unhealthy", database: false, solanaRpc: true, version: "0.1.0" },
    });
  });

  it("answers 503 when the RPC node is unreachable", async () => {
    const { status, body } = await callWithEnv({ SOLANA_RPC_URL: "http://127.0.0.1:1" }, "/health");
    expect(status).toBe(503);
    expect(body.data).toMatchObject({ status: "unhealthy", database: true, solanaRpc: false });
  });
});
