-- AlterEnum
ALTER TYPE "notification_outcome" ADD VALUE 'HELD';

-- CreateTable
CREATE TABLE "unsettled_deposits" (
    "id" BIGSERIAL NOT NULL,
    "notification_id" BIGINT NOT NULL,
    "order_id" TEXT NOT NULL,
    "transaction_id" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "reason" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'Open',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),
    "resolved_by" TEXT,
    "resolution_note" TEXT,

    CONSTRAINT "unsettled_deposits_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "unsettled_deposits_notification_id_key" ON "unsettled_deposits"("notification_id");

-- CreateIndex
CREATE UNIQUE INDEX "unsettled_deposits_order_id_transaction_id_amount_key" ON "unsettled_deposits"("order_id", "transaction_id", "amount");

-- AddForeignKey
ALTER TABLE "unsettled_deposits" ADD CONSTRAINT "unsettled_deposits_notification_id_fkey" FOREIGN KEY ("notification_id") REFERENCES "deposit_notifications"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "unsettled_deposits" ADD CONSTRAINT "unsettled_deposits_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "payment_orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: what Prisma's schema cannot say.

-- Held deposits: known states, positive amounts, a resolution says who and when.
ALTER TABLE "unsettled_deposits" ADD CONSTRAINT "unsettled_deposits_valid" CHECK (
  "amount" > 0
  AND "status" IN ('Open', 'Credited', 'Returned')
  AND ("status" = 'Open') = ("resolved_at" IS NULL)
  AND ("status" = 'Open') = ("resolved_by" IS NULL)
);
CREATE INDEX "unsettled_deposits_open_idx" ON "unsettled_deposits" ("created_at") WHERE "status" = 'Open';

-- Money Danal says arrived is never dropped: a held deposit is never deleted,
-- and only an Open one changes, once, to its resolution.
CREATE FUNCTION "unsettled_deposits_kept"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = 'Open'
     AND NEW.notification_id = OLD.notification_id AND NEW.order_id = OLD.order_id
     AND NEW.transaction_id = OLD.transaction_id AND NEW.amount = OLD.amount AND NEW.created_at = OLD.created_at THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'unsettled_deposits keeps every deposit: % refused (only an Open deposit is resolved, once)', TG_OP;
END $$;
CREATE TRIGGER "unsettled_deposits_no_delete_or_rewrite"
  BEFORE UPDATE OR DELETE ON "unsettled_deposits"
  FOR EACH ROW EXECUTE FUNCTION "unsettled_deposits_kept"();
CREATE TRIGGER "unsettled_deposits_no_truncate" BEFORE TRUNCATE ON "unsettled_deposits" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_truncate"();
