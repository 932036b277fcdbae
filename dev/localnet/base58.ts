/** Base58 (bs58 4.x ships no types, so it is loaded through require with its shape declared here). */
import { createRequire } from "node:module";

const bs58 = createRequire(import.meta.url)("bs58") as {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
};

export default bs58;
