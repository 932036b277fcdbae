/**
 * Every operation of the HTTP API, one module each (src/api/operation.ts says what a module declares). The app mounts
 * them and the OpenAPI document describes them from this list; it holds nothing but the imports.
 */
import type { Operation } from "../operation.ts";
import adminAuthorityInitialize from "./admin-authority-initialize.ts";
import adminPause from "./admin-pause.ts";
import adminProgramsAdd from "./admin-programs-add.ts";
import adminProgramsRemove from "./admin-programs-remove.ts";
import alertAck from "./alert-ack.ts";
import balanceHistory from "./balance-history.ts";
import dashboardConfig from "./dashboard-config.ts";
import dashboardRedirect from "./dashboard-redirect.ts";
import docsPage from "./docs-page.ts";
import eventsSchema from "./events-schema.ts";
import health from "./health.ts";
import metrics from "./metrics.ts";
import monitorAlerts from "./monitor-alerts.ts";
import monitorAudit from "./monitor-audit.ts";
import monitorStatus from "./monitor-status.ts";
import transactionStatus from "./transaction-status.ts";
import tvlHistory from "./tvl-history.ts";
import vaultBalance from "./vault-balance.ts";
import vaultDeposit from "./vault-deposit.ts";
import vaultInitialize from "./vault-initialize.ts";
import vaultLock from "./vault-lock.ts";
import vaultSubmit from "./vault-submit.ts";
import vaultTransactions from "./vault-transactions.ts";
import vaultTransfer from "./vault-transfer.ts";
import vaultTvl from "./vault-tvl.ts";
import vaultUnlock from "./vault-unlock.ts";
import vaultWithdraw from "./vault-withdraw.ts";
import webhookHelius from "./webhook-helius.ts";
import wsConnect from "./ws-connect.ts";
import wsNonce from "./ws-nonce.ts";

export const OPERATIONS = [
  adminAuthorityInitialize,
  adminPause,
  adminProgramsAdd,
  adminProgramsRemove,
  alertAck,
  balanceHistory,
  dashboardConfig,
  dashboardRedirect,
  docsPage,
  eventsSchema,
  health,
  metrics,
  monitorAlerts,
  monitorAudit,
  monitorStatus,
  transactionStatus,
  tvlHistory,
  vaultBalance,
  vaultDeposit,
  vaultInitialize,
  vaultLock,
  vaultSubmit,
  vaultTransactions,
  vaultTransfer,
  vaultTvl,
  vaultUnlock,
  vaultWithdraw,
  webhookHelius,
  wsConnect,
  wsNonce,
] as Operation[];
