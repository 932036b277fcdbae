/** JSON with exact u64 integers: the REST bodies and the WebSocket messages share this encoding. */

/**
 * `JSON.rawJSON` (TC39 "JSON.parse source text access"; V8 11.4+, so workerd at any compatibility date and Node 22):
 * a value JSON.stringify writes verbatim. TypeScript's es2023 lib does not declare it yet.
 */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * Serialises a JSON body, writing bigint values as exact integer literals (never rounded through Number). The
 * literal is emitted by the serializer itself, not by rewriting its output, so no string a client sends can turn
 * into a number.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v));
}
