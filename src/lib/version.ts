import pkg from "../../package.json" with { type: "json" };

/** The package version, reported by /health, /monitor/status, the dashboard and the OpenAPI document. */
export const VERSION: string = pkg.version;
