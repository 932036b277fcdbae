/**
 * Builds the dashboard (src/dashboard) into dist/site/dashboard/, the folder wrangler.toml's `[assets]` serves at
 * /dashboard/. Everything is bundled (web3.js included): the page fetches nothing from the internet.
 * Run: `node dev/build-dashboard.ts` (Node 22), or import `buildDashboard()` from test setup / dev.ts.
 */
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ROOT } from "./stack.ts";

export const SITE_DIR = join(ROOT, "dist/site");
const SOURCE = join(ROOT, "src/dashboard");
const OUT = join(SITE_DIR, "dashboard");

/** Bundles the page's script and stylesheet and copies its HTML; returns the output folder. */
export async function buildDashboard(opts: { minify?: boolean } = {}): Promise<string> {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  await build({
    entryPoints: { app: join(SOURCE, "main.ts"), styles: join(SOURCE, "styles.css") },
    outdir: OUT,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["chrome115", "firefox120", "safari16"],
    minify: opts.minify ?? true,
    sourcemap: "linked",
    legalComments: "linked",
    // web3.js 1.x reads process.env in a few places; the browser has no `process`.
    define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
    logLevel: "warning",
  });
  await copyFile(join(SOURCE, "index.html"), join(OUT, "index.html"));
  return OUT;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = Date.now();
  const out = await buildDashboard();
  console.log(`dashboard built into ${out} in ${Date.now() - started} ms`);
}
