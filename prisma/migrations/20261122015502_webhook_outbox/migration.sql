-- CreateTable
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "order_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL DEFAULT 'PAYMENT_STATUS_CHANGED',
    "status" "order_status" NOT NULL,
    "snapshot" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expanded_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_status" INTEGER,
    "last_error" TEXT,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_events_order_id_idx" ON "webhook_events"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_event_id_url_key" ON "webhook_deliveries"("event_id", "url");

-- AddForeignKey
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "payment_orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: what Prisma's schema cannot say.
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_state_known" CHECK ("state" IN ('pending', 'delivered', 'dead'));
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_attempts_not_negative" CHECK ("attempts" >= 0);
CREATE INDEX "webhook_events_not_expanded_idx" ON "webhook_events" ("created_at") WHERE "expanded_at" IS NULL;
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("next_attempt_at") WHERE "state" = 'pending';

-- The outbox: every status change a merchant's systems care about becomes an
-- event in the same transaction, whichever statement made the change. The
-- in-flight states (Confirming, Canceling, the unknown ones) and the return of
-- a refused cancel to Paid are not news.
CREATE FUNCTION "payment_orders_status_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('WaitingForDeposit', 'Paid', 'Failed', 'Expired', 'Canceled')
     AND NOT (NEW.status = 'Paid' AND OLD.status IN ('Canceling', 'CancelUnknown')) THEN
    INSERT INTO webhook_events (order_id, status, snapshot) VALUES (NEW.id, NEW.status, to_jsonb(NEW));
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "payment_orders_status_changed"
  AFTER UPDATE OF status ON "payment_orders"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION "payment_orders_status_event"();
