import { describe, expect, it } from "vitest";
import { clampPrice, heliusLevel, highestPercentile, percentile } from "../../src/vault/fees.ts";

describe("priority fees", () => {
  it("nearest-rank percentile, 0 for no fees", () => {
    expect(percentile([], 50)).toBe(0n);
    expect(percentile([5n, 1n, 3n, 2n, 4n], 50)).toBe(3n);
    expect(percentile([5n, 1n, 3n, 2n, 4n], 100)).toBe(5n);
    expect(percentile([5n, 1n, 3n, 2n, 4n], 0)).toBe(1n);
    expect(percentile([10n, 20n, 30n, 40n], 75)).toBe(30n);
  });

  it("prices by the most contended writable account, not by fees filtered by all of them", () => {
    // A quiet user account and a hot vault account: the hot one decides.
    const quiet = [0n, 0n, 0n, 0n];
    const hot = [1_000n, 5_000n, 20_000n, 80_000n];
    expect(highestPercentile([quiet, hot], 50)).toBe(5_000n);
    expect(highestPercentile([quiet, hot], 75)).toBe(20_000n);
    expect(highestPercentile([quiet], 90)).toBe(0n);
    expect(highestPercentile([], 50)).toBe(0n);
  });

  it("applies the floor, then the cap", () => {
    expect(clampPrice(0n, 1_000n, 500_000n)).toBe(1_000n);
    expect(clampPrice(7_000n, 1_000n, 500_000n)).toBe(7_000n);
    expect(clampPrice(900_000n, 1_000n, 500_000n)).toBe(500_000n);
    expect(clampPrice(0n, 900_000n, 500_000n)).toBe(500_000n);
  });

  it("maps percentiles to Helius's priority levels", () => {
    expect([0, 25, 50, 75, 95, 100].map(heliusLevel)).toEqual(["Min", "Low", "Medium", "High", "VeryHigh", "VeryHigh"]);
  });
});
