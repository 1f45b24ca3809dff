-- DropIndex
DROP INDEX "ledger_entries_one_per_order_and_type";

-- AlterTable
ALTER TABLE "ledger_entries" ADD COLUMN     "cancel_seq" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "payment_orders" ADD COLUMN     "canceled_amount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "canceled_points" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "order_cancels" (
    "id" BIGSERIAL NOT NULL,
    "order_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "amount" INTEGER NOT NULL,
    "point_amount" INTEGER NOT NULL,
    "cancel_type" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'Requested',
    "danal_cancel_transaction_id" TEXT,
    "failure_code" TEXT,
    "failure_message" TEXT,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "order_cancels_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "order_cancels_order_id_seq_key" ON "order_cancels"("order_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_one_per_order_type_and_cancel" ON "ledger_entries"("order_id", "type", "cancel_seq");

-- AddForeignKey
ALTER TABLE "order_cancels" ADD CONSTRAINT "order_cancels_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "payment_orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: what Prisma's schema cannot say.

ALTER TABLE "order_cancels" ADD CONSTRAINT "order_cancels_valid" CHECK (
  "seq" > 0 AND "amount" > 0 AND "point_amount" > 0
  AND "cancel_type" IN ('C', 'P')
  AND "status" IN ('Requested', 'Done', 'Refused')
  AND ("status" = 'Requested') = ("completed_at" IS NULL)
);
-- One cancel in flight per order: two cancels racing on one order cannot both be sent to Danal.
CREATE UNIQUE INDEX "order_cancels_one_in_flight" ON "order_cancels" ("order_id") WHERE "status" = 'Requested';

-- Never more refunded than paid, and the status says how much was.
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_canceled_within_paid" CHECK (
  "canceled_amount" >= 0 AND "canceled_amount" <= "amount" AND "canceled_points" >= 0 AND "canceled_points" <= "point_amount"
);
ALTER TABLE "payment_orders" DROP CONSTRAINT "payment_orders_approved_has_transaction";
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_approved_has_transaction" CHECK (
  "status" NOT IN ('WaitingForDeposit', 'Paid', 'PartialCanceled', 'Canceling', 'CancelUnknown', 'Canceled')
  OR ("danal_transaction_id" IS NOT NULL AND "approved_at" IS NOT NULL)
);

-- The cancels made before partial cancel existed (all full) become order_cancels
-- rows, and their ledger rows point at them.
INSERT INTO "order_cancels" ("order_id", "seq", "amount", "point_amount", "cancel_type", "reason", "status", "danal_cancel_transaction_id", "requested_at", "completed_at")
SELECT "id", 1, "amount", "point_amount", 'C', COALESCE("cancel_reason", 'customer request'),
       CASE WHEN "status" = 'Canceled' THEN 'Done' ELSE 'Requested' END,
       "danal_cancel_transaction_id", COALESCE("canceled_at", "updated_at"),
       CASE WHEN "status" = 'Canceled' THEN COALESCE("canceled_at", "updated_at") END
FROM "payment_orders" WHERE "status" IN ('Canceling', 'CancelUnknown', 'Canceled');
UPDATE "payment_orders" SET "canceled_amount" = "amount", "canceled_points" = "point_amount" WHERE "status" = 'Canceled';
-- The ledger is append-only; this one-time numbering is the migration's, not the service's.
ALTER TABLE "ledger_entries" DISABLE TRIGGER "ledger_entries_no_update_or_delete";
UPDATE "ledger_entries" SET "cancel_seq" = 1 WHERE "type" = 'CANCEL';
ALTER TABLE "ledger_entries" ENABLE TRIGGER "ledger_entries_no_update_or_delete";

-- A CANCEL row names the cancel it refunds; other rows name none.
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_cancel_seq_by_type" CHECK (
  "cancel_seq" >= 0 AND ("type" = 'CANCEL') = ("cancel_seq" > 0)
);

ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_canceled_matches_status" CHECK (CASE "status"
  WHEN 'Canceled' THEN "canceled_amount" = "amount" AND "canceled_points" = "point_amount"
  WHEN 'PartialCanceled' THEN "canceled_amount" > 0 AND "canceled_amount" < "amount"
  WHEN 'Paid' THEN "canceled_amount" = 0 AND "canceled_points" = 0
  ELSE true END);

-- The outbox trigger again: a partial cancel is news, and the snapshot carries
-- the order's completed cancels (the payment object's cancels[]). A cancel
-- that changed no amount (refused) returns the order to where it was: not news.
CREATE OR REPLACE FUNCTION "payment_orders_status_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('WaitingForDeposit', 'Paid', 'PartialCanceled', 'Failed', 'Expired', 'Canceled')
     AND NOT (OLD.status IN ('Canceling', 'CancelUnknown') AND NEW.canceled_amount = OLD.canceled_amount) THEN
    INSERT INTO webhook_events (order_id, status, snapshot)
    VALUES (NEW.id, NEW.status, to_jsonb(NEW) || jsonb_build_object('cancels', COALESCE(
      (SELECT jsonb_agg(to_jsonb(c) ORDER BY c.seq) FROM order_cancels c WHERE c.order_id = NEW.id AND c.status = 'Done'), '[]'::jsonb)));
  END IF;
  RETURN NEW;
END $$;
