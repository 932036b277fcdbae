CREATE INDEX "alerts_resolved_time" ON "alerts" USING btree ("resolved_at") WHERE status = 'resolved';--> statement-breakpoint
CREATE INDEX "job_runs_time" ON "job_runs" USING btree ("started_at");