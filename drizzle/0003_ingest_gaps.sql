CREATE TABLE "ingest_gaps" (
	"signature" varchar(128) PRIMARY KEY NOT NULL,
	"stream" varchar(64) NOT NULL,
	"slot" bigint NOT NULL,
	"block_time" timestamp with time zone,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL,
	"backfilled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "ingest_gaps_open" ON "ingest_gaps" USING btree ("stream","slot") WHERE backfilled_at is null;