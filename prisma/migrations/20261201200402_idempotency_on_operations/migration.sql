-- AlterTable
ALTER TABLE "order_cancels" ADD COLUMN     "idempotency_id" TEXT,
ADD COLUMN     "request_hash" TEXT;

-- AlterTable
ALTER TABLE "payment_orders" ADD COLUMN     "idempotency_id" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "order_cancels_idempotency_id_key" ON "order_cancels"("idempotency_id");

-- CreateIndex
CREATE UNIQUE INDEX "payment_orders_user_id_idempotency_id_key" ON "payment_orders"("user_id", "idempotency_id");

-- Hand-written: what Prisma's schema cannot say.

-- A cancel asked for under an Idempotency-Key carries the body it was asked with.
ALTER TABLE "order_cancels" ADD CONSTRAINT "order_cancels_key_has_request" CHECK (("idempotency_id" IS NULL) = ("request_hash" IS NULL));
