-- DropIndex
DROP INDEX "payment_orders_danal_transaction_id_key";

-- CreateIndex
CREATE INDEX "payment_orders_danal_transaction_id_idx" ON "payment_orders"("danal_transaction_id");

-- Hand-written: what Prisma's schema cannot say.

-- A Danal transaction is held by one order at a time: the one Danal approved it
-- for, or the one whose confirm is waiting for (or lost) Danal's answer. A
-- Failed order holds none, so a buyer who confirms with someone else's
-- transactionID and is declined cannot lock its owner out.
CREATE UNIQUE INDEX "payment_orders_one_order_per_transaction" ON "payment_orders" ("danal_transaction_id")
  WHERE "status" NOT IN ('Pending', 'Failed');
