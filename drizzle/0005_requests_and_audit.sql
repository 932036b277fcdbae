CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"api_key_name" varchar(64) NOT NULL,
	"action" varchar(48) NOT NULL,
	"outcome" varchar(48) NOT NULL,
	"transaction_id" uuid,
	"alert_id" bigint,
	"request_id" varchar(64),
	"details" jsonb
);
--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "scope" SET DATA TYPE varchar(128);--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "status_code" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "response" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "acknowledged_by" varchar(64);--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "origin" varchar(16) DEFAULT 'chain' NOT NULL;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "intent_hash" varchar(64);--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "claimed_signature" varchar(128);--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "claim_status" varchar(16);--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "claim_reason" text;--> statement-breakpoint
ALTER TABLE "transactions" ADD COLUMN "api_key_name" varchar(64);--> statement-breakpoint
CREATE INDEX "audit_log_time" ON "audit_log" USING btree ("at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_key_time" ON "audit_log" USING btree ("api_key_name","at" DESC NULLS LAST);--> statement-breakpoint
-- Hand-written backfill: rows the API created (they carry the built message's hash) are requests; the relay's own
-- rows say builtBy = client. Before the one-signature-one-request index: a signature bound to several requests (the
-- old status-forgery bug) stays with the row that became its event row (or the oldest), the others lose it and keep
-- it only as a rejected report.
UPDATE "transactions" SET "origin" = CASE WHEN "details"->>'builtBy' = 'client' THEN 'relay' ELSE 'build' END WHERE "message_hash" IS NOT NULL;--> statement-breakpoint
UPDATE "transactions" t SET "claimed_signature" = t."signature", "claim_status" = 'rejected', "claim_reason" = 'The signature was bound to several requests; it stays with ' || k."id"::text, "signature" = NULL FROM (SELECT DISTINCT ON ("signature") "signature", "id" FROM "transactions" WHERE "origin" <> 'chain' AND "signature" IS NOT NULL ORDER BY "signature", ("event_index" IS NULL), "created_at", "id") k WHERE t."origin" <> 'chain' AND t."signature" = k."signature" AND t."id" <> k."id";--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_request_signature_key" ON "transactions" USING btree ("signature") WHERE origin <> 'chain' and signature is not null;--> statement-breakpoint
CREATE INDEX "transactions_unbound_intent" ON "transactions" USING btree ("intent_hash") WHERE signature is null and intent_hash is not null;--> statement-breakpoint
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_origin_valid" CHECK (origin in ('build', 'relay', 'chain'));--> statement-breakpoint
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_claim_status_valid" CHECK (claim_status is null or claim_status in ('unverified', 'verified', 'rejected'));