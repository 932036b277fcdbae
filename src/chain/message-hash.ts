/** Hex sha256 of a serialized message: the identity of a built request, whoever signs and submits it. */
export async function messageHash(message: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", message as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
