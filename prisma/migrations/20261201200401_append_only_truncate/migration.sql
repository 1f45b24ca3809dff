-- Hand-written: what Prisma's schema cannot say.

-- The append-only tables refuse TRUNCATE too: their row triggers never see it,
-- and a TRUNCATE of a table that points at them cascades into them.
CREATE FUNCTION "refuse_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: TRUNCATE is not allowed', TG_TABLE_NAME;
END $$;
CREATE TRIGGER "ledger_entries_no_truncate" BEFORE TRUNCATE ON "ledger_entries" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_truncate"();
CREATE TRIGGER "order_events_no_truncate" BEFORE TRUNCATE ON "order_events" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_truncate"();
CREATE TRIGGER "deposit_notifications_no_truncate" BEFORE TRUNCATE ON "deposit_notifications" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_truncate"();
CREATE TRIGGER "webhook_events_no_truncate" BEFORE TRUNCATE ON "webhook_events" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_truncate"();
