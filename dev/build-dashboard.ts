/**
 * Builds the dashboard (src/dashboard) into dist/site/dashboard/, the folder wrangler.toml's `[assets]` serves at
 * /dashboard/, and writes dist/site/_headers: the page's Content-Security-Policy and security headers (static assets
 * are served before the Worker, so its own header middleware never sees them). Everything is bundled (web3.js
 * included): the page fetches nothing from the internet.
 * Run: `node dev/build-dashboard.ts [--no-sourcemap]` (Node 22), or import `buildDashboard()` from setup / dev.ts.
 */
import { copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ROOT } from "./stack.ts";

export const SITE_DIR = join(ROOT, "dist/site");
const SOURCE = join(ROOT, "src/dashboard");
const OUT = join(SITE_DIR, "dashboard");

export interface DashboardBuild {
  minify?: boolean;
  /**
   * Source maps next to the bundle (default: true, for local debugging). A deployment builds without them: the
   * maps would publish the dashboard's whole source.
   */
  sourcemap?: boolean;
  /**
   * Origins the page may also connect to besides its own. Local builds allow the loopback interface (the localnet
   * faucet of the dev wallet runs on another port); a deployment allows nothing else.
   */
  extraConnectSrc?: string[];
}

/** Local builds: the dev wallet's faucet is the localnet on another loopback port. */
export const LOCAL_CONNECT_SRC = ["http://127.0.0.1:*", "http://localhost:*"];

/** Bundles the page's script and stylesheet, copies its HTML and writes the headers; returns the output folder. */
export async function buildDashboard(opts: DashboardBuild = {}): Promise<string> {
  const sourcemap = opts.sourcemap ?? true;
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
    sourcemap: sourcemap ? "linked" : false,
    legalComments: "linked",
    // web3.js 1.x reads process.env in a few places; the browser has no `process`.
    define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
    logLevel: "warning",
  });
  await copyFile(join(SOURCE, "index.html"), join(OUT, "index.html"));
  await writeFile(join(SITE_DIR, "_headers"), dashboardHeaders(opts.extraConnectSrc ?? LOCAL_CONNECT_SRC));
  if (!sourcemap) {
    const maps = (await readdir(OUT)).filter((f) => f.endsWith(".map"));
    if (maps.length > 0) throw new Error(`source maps left in ${OUT}: ${maps.join(", ")}`);
  }
  return OUT;
}

/** The page's CSP: its own scripts, styles and API only (no inline code, no third party, no framing). */
export function dashboardCsp(extraConnectSrc: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${["'self'", ...extraConnectSrc].join(" ")}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/** `_headers` in Cloudflare's static-assets format: one path pattern, then indented `Name: value` lines. */
function dashboardHeaders(extraConnectSrc: string[]): string {
  const headers: Record<string, string> = {
    "Content-Security-Policy": dashboardCsp(extraConnectSrc),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
  };
  const lines = Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`);
  return `/dashboard/*\n${lines.join("\n")}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = Date.now();
  const deployable = process.argv.includes("--no-sourcemap");
  const out = await buildDashboard(deployable ? { sourcemap: false, extraConnectSrc: [] } : {});
  console.log(`dashboard built into ${out} in ${Date.now() - started} ms`);
}
