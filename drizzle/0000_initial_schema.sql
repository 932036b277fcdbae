CREATE TABLE "alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" varchar(48) NOT NULL,
	"severity" varchar(16) NOT NULL,
	"owner" varchar(64),
	"dedup_key" varchar(256) NOT NULL,
	"message" text NOT NULL,
	"details" jsonb,
	"status" varchar(16) DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "alerts_severity_valid" CHECK (severity in ('info', 'warning', 'critical')),
	CONSTRAINT "alerts_status_valid" CHECK (status in ('open', 'acknowledged', 'resolved'))
);
--> statement-breakpoint
CREATE TABLE "balance_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"owner" varchar(64) NOT NULL,
	"total_balance" numeric(20, 0) NOT NULL,
	"locked_balance" numeric(20, 0) NOT NULL,
	"available_balance" numeric(20, 0) NOT NULL,
	"slot" bigint NOT NULL,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "balance_snapshots_total_range" CHECK (total_balance >= 0 and total_balance <= 18446744073709551615),
	CONSTRAINT "balance_snapshots_locked_range" CHECK (locked_balance >= 0 and locked_balance <= 18446744073709551615),
	CONSTRAINT "balance_snapshots_available_range" CHECK (available_balance >= 0 and available_balance <= 18446744073709551615)
);
--> statement-breakpoint
CREATE TABLE "chain_transactions" (
	"signature" varchar(128) PRIMARY KEY NOT NULL,
	"slot" bigint NOT NULL,
	"block_time" timestamp with time zone,
	"commitment" varchar(16) NOT NULL,
	"err" jsonb,
	"message_hash" varchar(64),
	"event_count" integer DEFAULT 0 NOT NULL,
	"source" varchar(16) DEFAULT 'poll' NOT NULL,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chain_transactions_commitment_valid" CHECK (commitment in ('confirmed', 'finalized', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "cursors" (
	"name" varchar(64) PRIMARY KEY NOT NULL,
	"signature" varchar(128),
	"slot" bigint,
	"state" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"scope" varchar(64) NOT NULL,
	"key" varchar(128) NOT NULL,
	"request_hash" varchar(64) NOT NULL,
	"status_code" integer NOT NULL,
	"response" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job" varchar(64) NOT NULL,
	"trigger" varchar(64) NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"outcome" varchar(16) NOT NULL,
	"figures" jsonb,
	"error" text,
	CONSTRAINT "job_runs_outcome_valid" CHECK (outcome in ('ok', 'error', 'partial'))
);
--> statement-breakpoint
CREATE TABLE "reconciliation_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"owner" varchar(64) NOT NULL,
	"field" varchar(40) NOT NULL,
	"expected" numeric(40, 0) NOT NULL,
	"actual" numeric(40, 0) NOT NULL,
	"difference" numeric(40, 0) NOT NULL,
	"slot" bigint NOT NULL,
	"repaired" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reconciliation_logs_difference" CHECK (difference = expected - actual)
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"vault_owner" varchar(64) NOT NULL,
	"transaction_type" varchar(32) NOT NULL,
	"amount" numeric(20, 0),
	"signature" varchar(128),
	"event_index" integer,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"message_hash" varchar(64),
	"blockhash" varchar(64),
	"last_valid_block_height" bigint,
	"slot" bigint,
	"block_time" timestamp with time zone,
	"counterparty" varchar(64),
	"reason" varchar(32),
	"error_code" integer,
	"error_name" varchar(64),
	"error_message" text,
	"details" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transactions_type_valid" CHECK (transaction_type in ('initialize', 'deposit', 'withdrawal', 'lock', 'unlock', 'transfer_in', 'transfer_out', 'initialize_authority', 'add_authorized_program', 'remove_authorized_program', 'set_paused')),
	CONSTRAINT "transactions_status_valid" CHECK (status in ('pending', 'submitted', 'confirmed', 'finalized', 'failed', 'expired')),
	CONSTRAINT "transactions_amount_range" CHECK (amount is null or (amount >= 0 and amount <= 18446744073709551615))
);
--> statement-breakpoint
CREATE TABLE "tvl_snapshots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"total_value_locked" numeric(40, 0) NOT NULL,
	"total_locked" numeric(40, 0) NOT NULL,
	"total_available" numeric(40, 0) NOT NULL,
	"token_account_total" numeric(40, 0),
	"active_vaults" integer NOT NULL,
	"slot" bigint,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tvl_snapshots_non_negative" CHECK (total_value_locked >= 0 and active_vaults >= 0)
);
--> statement-breakpoint
CREATE TABLE "vaults" (
	"owner" varchar(64) PRIMARY KEY NOT NULL,
	"vault_address" varchar(64) NOT NULL,
	"token_account" varchar(64) NOT NULL,
	"mint" varchar(64),
	"total_balance" numeric(20, 0) DEFAULT 0 NOT NULL,
	"locked_balance" numeric(20, 0) DEFAULT 0 NOT NULL,
	"available_balance" numeric(20, 0) DEFAULT 0 NOT NULL,
	"total_deposited" numeric(20, 0) DEFAULT 0 NOT NULL,
	"total_withdrawn" numeric(20, 0) DEFAULT 0 NOT NULL,
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"chain_created_at" timestamp with time zone,
	"slot" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vaults_vault_address_unique" UNIQUE("vault_address"),
	CONSTRAINT "vaults_total_range" CHECK (total_balance >= 0 and total_balance <= 18446744073709551615),
	CONSTRAINT "vaults_locked_range" CHECK (locked_balance >= 0 and locked_balance <= 18446744073709551615),
	CONSTRAINT "vaults_available_range" CHECK (available_balance >= 0 and available_balance <= 18446744073709551615),
	CONSTRAINT "vaults_deposited_range" CHECK (total_deposited >= 0 and total_deposited <= 18446744073709551615),
	CONSTRAINT "vaults_withdrawn_range" CHECK (total_withdrawn >= 0 and total_withdrawn <= 18446744073709551615),
	CONSTRAINT "vaults_total_is_locked_plus_available" CHECK (total_balance = locked_balance + available_balance),
	CONSTRAINT "vaults_status_valid" CHECK (status in ('active', 'paused', 'closed')),
	CONSTRAINT "vaults_slot_non_negative" CHECK (slot >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_unresolved_dedup" ON "alerts" USING btree ("dedup_key") WHERE status <> 'resolved';--> statement-breakpoint
CREATE INDEX "alerts_status_time" ON "alerts" USING btree ("status","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "balance_snapshots_owner_time" ON "balance_snapshots" USING btree ("owner","taken_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "balance_snapshots_time" ON "balance_snapshots" USING btree ("taken_at");--> statement-breakpoint
CREATE INDEX "chain_transactions_slot" ON "chain_transactions" USING btree ("slot");--> statement-breakpoint
CREATE INDEX "chain_transactions_unfinalized" ON "chain_transactions" USING btree ("slot") WHERE commitment = 'confirmed';--> statement-breakpoint
CREATE INDEX "idempotency_keys_time" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "job_runs_job_time" ON "job_runs" USING btree ("job","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "reconciliation_logs_time" ON "reconciliation_logs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "reconciliation_logs_owner" ON "reconciliation_logs" USING btree ("owner","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_event_key" ON "transactions" USING btree ("signature","event_index","transaction_type") WHERE signature is not null and event_index is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_message_hash_key" ON "transactions" USING btree ("message_hash","transaction_type") WHERE message_hash is not null;--> statement-breakpoint
CREATE INDEX "transactions_owner_history" ON "transactions" USING btree ("vault_owner","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "transactions_signature" ON "transactions" USING btree ("signature");--> statement-breakpoint
CREATE INDEX "transactions_open_status" ON "transactions" USING btree ("status") WHERE status in ('pending', 'submitted', 'confirmed');--> statement-breakpoint
CREATE INDEX "tvl_snapshots_time" ON "tvl_snapshots" USING btree ("taken_at");