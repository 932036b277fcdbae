import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { kickIngestor } from "../../platform/stubs.ts";
import { needsRefresh, refreshRequestStatus, requestView } from "../../vault/lifecycle.ts";
import { findRequest } from "../../vault/requests.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { requestData } from "../responses.ts";
import { uuid } from "../submit.ts";

export default defineOperation({
  method: "get",
  path: "/transactions/{id}",
  summary: "Status of a request: pending → submitted → confirmed → finalized, or failed / expired",
  tag: "relay",
  params: z.object({ id: uuid }),
  success: { status: 200, data: requestData },
  errors: ["VALIDATION_FAILED", "TRANSACTION_NOT_FOUND"],
  handler: async (c, { params: { id } }) => {
    const services = c.get("services");
    const row = await findRequest(services.reads(), id);
    if (!row) throw new AppError("TRANSACTION_NOT_FOUND", `No transaction ${id}`);
    // A settled request is served from its row (one HTTP round trip, no pool).
    if (!needsRefresh(row)) return ok(c, requestView(row));
    // Read-through: a status read also asks the chain, so it is current even between the tracker's alarms.
    const fresh = await refreshRequestStatus(services, row, { kickIngestor: () => kickIngestor(c.env) }).catch(
      (err) => {
        services.log.warn("status refresh failed; serving stored status", { error: err });
        return row;
      },
    );
    return ok(c, requestView(fresh));
  },
});
