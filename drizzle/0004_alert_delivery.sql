CREATE TABLE "alert_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" bigint NOT NULL,
	"target" varchar(128) NOT NULL,
	"kind" varchar(48) NOT NULL,
	"status" varchar(16) DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"response_status" integer,
	"last_error" text,
	"merged_into" bigint,
	"merged_count" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_deliveries_status_valid" CHECK (status in ('pending', 'sent', 'merged', 'failed')),
	CONSTRAINT "alert_deliveries_attempts_non_negative" CHECK (attempts >= 0)
);
--> statement-breakpoint
CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_id" bigint NOT NULL,
	"event" varchar(16) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dispatched_at" timestamp with time zone,
	CONSTRAINT "alert_events_event_valid" CHECK (event in ('raised', 'acknowledged', 'resolved'))
);
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_event_id_alert_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."alert_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_deliveries_once" ON "alert_deliveries" USING btree ("event_id","target");--> statement-breakpoint
CREATE INDEX "alert_deliveries_pending" ON "alert_deliveries" USING btree ("target","id") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "alert_deliveries_sent" ON "alert_deliveries" USING btree ("target","kind","sent_at") WHERE status = 'sent';--> statement-breakpoint
CREATE UNIQUE INDEX "alert_events_once" ON "alert_events" USING btree ("alert_id","event");--> statement-breakpoint
CREATE INDEX "alert_events_undispatched" ON "alert_events" USING btree ("id") WHERE dispatched_at is null;--> statement-breakpoint
CREATE INDEX "alert_events_time" ON "alert_events" USING btree ("created_at");