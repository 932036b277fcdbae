import { z } from "zod";
import { vaultBalance } from "../../vault/balance.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { balanceData } from "../responses.ts";
import { pubkeySchema } from "../validation.ts";

export default defineOperation({
  method: "get",
  path: "/vault/balance/{owner}",
  summary: "Vault balance (cache, or the chain when the cache is missing or stale)",
  tag: "read",
  params: z.object({ owner: pubkeySchema }),
  success: { status: 200, data: balanceData },
  errors: ["INVALID_PUBKEY", "VAULT_NOT_FOUND"],
  handler: async (c, { params }) => ok(c, await vaultBalance(c.get("services"), params.owner)),
});
