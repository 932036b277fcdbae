import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually } from "../eventually.ts";
import { type Browser, launch, screenshot } from "./browser.ts";

let browser: Browser;
let page: Page;

/** Waits until the locator's text matches, failing with the last text seen. */
async function textMatches(locator: Locator, pattern: RegExp, timeoutMs = 45_000): Promise<string> {
  return eventually(
    async () => {
      const text = ((await locator.textContent().catch(() => null)) ?? "").trim();
      if (pattern.test(text)) return text;
      throw new Error(`the page shows: "${text}"`);
    },
    { timeoutMs, what: `text matching ${pattern}` },
  );
}

describe("the dashboard in a real browser", () => {
  beforeAll(async () => {
    browser = await launch();
    page = browser.page;
    await page.goto(inject("dashboardUrl"));
    await page.locator("body[data-ready=true]").waitFor();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("loads with both views, the localnet badge and the dev wallet", async () => {
    expect(await page.title()).toBe("Collateral vault dashboard");
    await textMatches(page.locator("#cluster"), /^localnet · v\d/);
    expect(await page.locator("#dev-wallet").isVisible()).toBe(true);
    expect(await page.getByRole("link", { name: "Vault" }).getAttribute("aria-current")).toBe("page");
    // Every form control has a label a screen reader can announce.
    const unlabelled = await page.$$eval("input, select", (els) =>
      els.filter((el) => (el as HTMLInputElement).labels?.length === 0).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
  });

  it("shows an unknown vault and a malformed key in plain words with their codes", async () => {
    await page.getByLabel("Owner public key").fill("not-a-key");
    await page.getByRole("button", { name: "Show vault" }).click();
    await textMatches(page.locator("#vault-status"), /not a Solana public key.*\(INVALID_PUBKEY\)/);
    await page.getByLabel("Owner public key").fill("11111111111111111111111111111112");
    await page.getByLabel("Owner public key").press("Enter");
    await textMatches(page.locator("#vault-status"), /No vault exists for this key yet\. \(VAULT_NOT_FOUND\)/);
  });

  it("creates, funds and initializes a dev wallet, then deposits: the live feed and the balance follow", async () => {
    await page.getByRole("button", { name: "Create wallet" }).click();
    const address = await textMatches(page.locator("#wallet-address"), /^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(await page.getByLabel("Owner public key").inputValue()).toBe(address);

    await page.getByRole("button", { name: /Fund from faucet/ }).click();
    await textMatches(page.locator("#wallet-status"), /Funded with 2 SOL and 1,000\.00 USDT/);
    await page.getByRole("button", { name: "Initialize vault" }).click();
    await textMatches(page.locator("#wallet-status"), /^initialize (confirmed|finalized)\.$/);
    await textMatches(page.locator("#card-total"), /^0\.00 USDT$/);

    await page.getByLabel("Amount (USDT)").fill("25.5");
    await page.getByRole("button", { name: "Deposit" }).click();
    await textMatches(page.locator("#wallet-status"), /^deposit (confirmed|finalized)\.$/);

    const confirmed = page.locator('#feed li[data-event="transaction_confirmed"]', { hasText: "deposit" });
    await textMatches(confirmed.first(), /transaction_confirmed.*deposit · 25\.50 USDT/);
    await textMatches(page.locator("#card-total"), /^25\.50 USDT$/);
    await textMatches(page.locator("#card-available"), /^25\.50 USDT$/);
    await textMatches(page.locator("#card-locked"), /^0\.00 USDT$/);
    await textMatches(page.locator("#history tbody tr").first(), /deposit\s*25\.50 USDT\s*(confirmed|finalized)/);
    // The balance chart ends at the new level (a flat line has no height, so Playwright calls it hidden).
    await textMatches(page.locator("#balance-chart svg title"), /^Total balance.*latest 25\.5 USDT/);
    expect(await page.locator("#balance-chart svg path.line").getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+[HLV]/);
    console.log(`screenshot: ${await screenshot(page, "vault-after-deposit")}`);
  });

  it("refuses a withdrawal beyond the available balance in plain words with the API's code", async () => {
    await page.getByLabel("Amount (USDT)").fill("1000");
    await page.getByRole("button", { name: "Withdraw" }).click();
    await textMatches(
      page.locator("#wallet-status"),
      /\((INSUFFICIENT_AVAILABLE_BALANCE|INSUFFICIENT_TOTAL_BALANCE)\)$/,
    );
  });

  it("filters the history by type", async () => {
    await page.getByLabel("Type").selectOption("initialize");
    await textMatches(page.locator("#history-page"), /^1–1 of 1$/);
    await textMatches(page.locator("#history tbody"), /initialize/);
    await page.getByLabel("Type").selectOption("");
    await textMatches(page.locator("#history-page"), /of [2-9]/);
  });

  it("shows the system view: TVL figures and chart, health and jobs, and alerts behind the admin key", async () => {
    // The TVL job runs now (as its cron would), so the latest snapshot includes this test's deposit.
    const cron = await fetch(`${inject("apiUrl")}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
    expect(cron.status).toBe(200);
    await page.getByRole("link", { name: "System" }).click();
    await textMatches(page.locator("#tvl-chart svg title"), /^Total value locked: \d+ points, latest [\d.,]+K? USDT/);
    expect(await page.locator("#tvl-chart svg path.line").getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+[HLV]/);
    await textMatches(page.locator("#tvl-total"), /USDT$/);
    await textMatches(page.locator("#tvl-vaults"), /^[1-9]\d*$/);
    await textMatches(page.locator("#monitor"), /Database\s*healthy/);
    await textMatches(page.locator("#alerts"), /Enter the admin key/);
    await page.getByLabel("Admin API key").fill("admin-key-0123456789abcdef");
    await page.getByRole("button", { name: "Use key" }).click();
    await textMatches(page.locator("#alerts"), /No alerts|Acknowledge/);
    expect(await page.evaluate(() => sessionStorage.getItem("vault-dashboard.admin-key"))).toBe(
      "admin-key-0123456789abcdef",
    );
    expect(await page.evaluate(() => localStorage.getItem("vault-dashboard.admin-key"))).toBeNull();
    console.log(`screenshot: ${await screenshot(page, "system-view")}`);
  });
});
