CREATE TABLE "socket_subscribers" (
	"owner" varchar(44) PRIMARY KEY NOT NULL,
	"first_connected_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_connected_at" timestamp with time zone DEFAULT now() NOT NULL
);
