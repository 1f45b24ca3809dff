-- AlterTable
ALTER TABLE "payment_orders" ADD COLUMN     "noti_token" TEXT;

-- CreateTable
CREATE TABLE "refused_notifications" (
    "id" BIGSERIAL NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source_ip" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "prefix" TEXT NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "refused_notifications_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "refused_notifications_received_at_idx" ON "refused_notifications"("received_at");

-- A trace is bounded by the database itself, whatever the code in front of it does.
ALTER TABLE "refused_notifications" ADD CONSTRAINT "refused_notifications_prefix_bounded" CHECK (length("prefix") <= 200);
ALTER TABLE "refused_notifications" ADD CONSTRAINT "refused_notifications_size_nonnegative" CHECK ("size" >= 0);
