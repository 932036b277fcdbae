import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { ownerHub } from "../../platform/stubs.ts";
import { signInMessage } from "../../realtime/sockets.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { nonceData } from "../responses.ts";
import { pubkeySchema } from "../validation.ts";

/** Sign-In-With-Solana style: a single-use nonce and the exact text the owner's wallet signs (signMessage). */
export default defineOperation({
  method: "get",
  path: "/ws/{owner}/nonce",
  summary:
    "A single-use sign-in nonce and the exact message (Sign-In With Solana layout) the owner's wallet signs (signMessage, ed25519) to open an authenticated socket: /ws/{owner}?nonce=<nonce>&signature=<base58 signature>. Valid WS_AUTH_NONCE_TTL seconds",
  tag: "realtime",
  params: z.object({ owner: pubkeySchema }),
  limit: "ws",
  success: { status: 200, data: nonceData },
  errors: ["INVALID_PUBKEY", "RATE_LIMITED", "SERVICE_UNAVAILABLE"],
  handler: async (c, { params }) => {
    const owner = params.owner.toBase58();
    const { config } = c.get("services");
    const url = new URL(c.req.url);
    const nonce = randomNonce();
    const issuedAt = new Date();
    const expiresAt = new Date(issuedAt.getTime() + config.wsAuthNonceTtlSec * 1000);
    const message = signInMessage({ domain: url.host, origin: url.origin, owner, nonce, issuedAt, expiresAt });
    try {
      await ownerHub(c.env, owner).storeNonce(nonce, message, expiresAt.getTime());
    } catch (err) {
      c.get("services").log.warn("sign-in nonce not stored", { owner, error: err });
      throw new AppError("SERVICE_UNAVAILABLE", "Sign-in is unavailable right now; retry shortly");
    }
    return ok(c, {
      owner,
      nonce,
      message,
      issuedAt: issuedAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      connect: `/ws/${owner}?nonce=${nonce}&signature=<base58 ed25519 signature of message>`,
    });
  },
});

function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
