/**
 * The provider the `provider` test project's Worker talks to: Helius-like budgets (50 items/s counting batch items,
 * sendTransaction 5/s), 20 ± 10 ms per request, one request in five answered by a node 4 slots behind, and a history
 * of 300 slots (30 s at the tests' 100 ms slots) so that pruning can be reached by advancing slots.
 */
import { PROFILES, type Profile } from "../../dev/localnet/profile.ts";

export const TEST_PROVIDER_PROFILE: Profile = {
  ...PROFILES.provider,
  latencyMs: 20,
  jitterMs: 10,
  lagShare: 0.2,
  lagSlots: 4,
  historySlots: 300,
};
