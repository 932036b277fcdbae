import { describe, expect, it } from "vitest";
import { jsonInit, send } from "./hardening-support.ts";
import { walletWithVault } from "./ingest-support.ts";

describe("priority fees of builds", () => {
  it("never price below PRIORITY_FEE_FLOOR_MICROLAMPORTS, never above the cap, and a request's own price wins", async () => {
    const { owner } = await walletWithVault(1_000_000n);
    const build = async (vars: Record<string, string>, extra: Record<string, unknown> = {}) => {
      const res = await send(vars, "/vault/deposit", jsonInit({ userPubkey: owner, amount: 1_000, ...extra }));
      expect(res.status, res.text).toBe(200);
      return res.body?.data as { computeUnitPrice: number; computeUnitLimit: number; estimatedFeeLamports: number };
    };
    const floored = await build({ PRIORITY_FEE_FLOOR_MICROLAMPORTS: "12345" });
    expect(floored.computeUnitPrice).toBeGreaterThanOrEqual(12_345);
    expect(floored.estimatedFeeLamports).toBe(
      5_000 + Math.ceil((floored.computeUnitLimit * floored.computeUnitPrice) / 1e6),
    );
    const capped = await build({
      PRIORITY_FEE_FLOOR_MICROLAMPORTS: "900000",
      PRIORITY_FEE_MAX_MICROLAMPORTS: "400000",
    });
    expect(capped.computeUnitPrice).toBe(400_000);
    const own = await build({ PRIORITY_FEE_FLOOR_MICROLAMPORTS: "12345" }, { priorityFee: { computeUnitPrice: 7 } });
    expect(own.computeUnitPrice).toBe(7);
  });

  it("falls back to per-account percentiles when the Helius estimator is configured but the provider lacks it", async () => {
    const { owner } = await walletWithVault(1_000_000n);
    const res = await send(
      { PRIORITY_FEE_ESTIMATOR: "helius", PRIORITY_FEE_FLOOR_MICROLAMPORTS: "2000" },
      "/vault/deposit",
      jsonInit({ userPubkey: owner, amount: 1_000 }),
    );
    expect(res.status, res.text).toBe(200);
    expect((res.body?.data as { computeUnitPrice?: number } | undefined)?.computeUnitPrice).toBeGreaterThanOrEqual(
      2_000,
    );
  });
});
