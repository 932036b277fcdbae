ALTER TABLE "alerts" ADD COLUMN "count" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "last_seen_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "tvl_snapshots" ADD COLUMN "recorded_total" numeric(40, 0);--> statement-breakpoint
ALTER TABLE "vaults" ADD COLUMN "token_amount" numeric(20, 0);--> statement-breakpoint
ALTER TABLE "vaults" ADD COLUMN "token_frozen" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "vaults" ADD COLUMN "token_slot" bigint;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_count_positive" CHECK (count >= 1);--> statement-breakpoint
ALTER TABLE "vaults" ADD CONSTRAINT "vaults_token_amount_range" CHECK (token_amount is null or (token_amount >= 0 and token_amount <= 18446744073709551615));--> statement-breakpoint
-- Alerts raised before this migration were seen once, when they were created.
UPDATE "alerts" SET "last_seen_at" = "created_at";