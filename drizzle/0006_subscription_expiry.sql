ALTER TABLE "socket_subscribers" ADD COLUMN "has_sockets" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "socket_subscribers" ADD COLUMN "last_socket_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
UPDATE "socket_subscribers" SET "last_socket_at" = "last_connected_at";