-- AlterTable
ALTER TABLE "payment_orders" ADD COLUMN     "next_reconcile_at" TIMESTAMPTZ(3),
ADD COLUMN     "reconcile_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "reconcile_gave_up_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "order_events" (
    "id" BIGSERIAL NOT NULL,
    "order_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "detail" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "order_events_order_id_id_idx" ON "order_events"("order_id", "id");

-- AddForeignKey
ALTER TABLE "order_events" ADD CONSTRAINT "order_events_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "payment_orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: what Prisma's schema cannot say.
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_reconcile_attempts_not_negative" CHECK ("reconcile_attempts" >= 0);

-- The reconciler's sweep reads only orders in an unknown state.
CREATE INDEX "payment_orders_reconcile_due_idx" ON "payment_orders" ("next_reconcile_at")
  WHERE "status" IN ('ConfirmUnknown', 'CancelUnknown');

-- Order events are history: appended, never changed.
CREATE FUNCTION "order_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'order_events is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER "order_events_no_update_or_delete"
  BEFORE UPDATE OR DELETE ON "order_events"
  FOR EACH ROW EXECUTE FUNCTION "order_events_append_only"();
