-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ledger_entry_type" AS ENUM ('CHARGE', 'CANCEL', 'SPEND');

-- CreateEnum
CREATE TYPE "payment_method" AS ENUM ('Card', 'KakaoPay', 'NaverPay', 'Transfer', 'Mobile', 'VirtualAccount', 'Payco');

-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('Pending', 'Confirming', 'ConfirmUnknown', 'WaitingForDeposit', 'Paid', 'Failed', 'Expired', 'Canceling', 'CancelUnknown', 'Canceled');

-- CreateEnum
CREATE TYPE "notification_outcome" AS ENUM ('CREDITED', 'DUPLICATE', 'REJECTED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "password_salt" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "wallets" (
    "user_id" UUID NOT NULL,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "held_points" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "wallets_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" BIGSERIAL NOT NULL,
    "user_id" UUID NOT NULL,
    "order_id" TEXT,
    "type" "ledger_entry_type" NOT NULL,
    "amount" INTEGER NOT NULL,
    "balance_after" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_orders" (
    "id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "order_name" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "point_amount" INTEGER NOT NULL,
    "tax_free_amount" INTEGER NOT NULL DEFAULT 0,
    "vat" INTEGER NOT NULL,
    "supplied_amount" INTEGER NOT NULL,
    "payment_method" "payment_method" NOT NULL,
    "status" "order_status" NOT NULL DEFAULT 'Pending',
    "danal_transaction_id" TEXT,
    "danal_method" TEXT,
    "danal_cancel_transaction_id" TEXT,
    "vaccount_bank_code" TEXT,
    "vaccount_bank_name" TEXT,
    "vaccount_number" TEXT,
    "vaccount_holder" TEXT,
    "vaccount_due_at" TIMESTAMPTZ(3),
    "failure_code" TEXT,
    "failure_message" TEXT,
    "cancel_reason" TEXT,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "approved_at" TIMESTAMPTZ(3),
    "canceled_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deposit_notifications" (
    "id" BIGSERIAL NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source_ip" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "order_id" TEXT,
    "outcome" "notification_outcome" NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "deposit_notifications_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "ledger_entries_user_id_id_idx" ON "ledger_entries"("user_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_one_per_order_and_type" ON "ledger_entries"("order_id", "type");

-- CreateIndex
CREATE UNIQUE INDEX "payment_orders_danal_transaction_id_key" ON "payment_orders"("danal_transaction_id");

-- CreateIndex
CREATE INDEX "payment_orders_user_id_requested_at_idx" ON "payment_orders"("user_id", "requested_at");

-- CreateIndex
CREATE INDEX "payment_orders_status_expires_at_idx" ON "payment_orders"("status", "expires_at");

-- CreateIndex
CREATE INDEX "deposit_notifications_order_id_idx" ON "deposit_notifications"("order_id");

-- AddForeignKey
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "payment_orders"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Money rules the database enforces itself (Prisma cannot express these).

-- A wallet never goes negative, and never holds more than it has.
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_balance_not_negative" CHECK ("balance" >= 0);
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_held_within_balance" CHECK ("held_points" >= 0 AND "held_points" <= "balance");

-- Ledger rows have the sign of their type; charges and cancels belong to an order.
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_signed_by_type" CHECK (
  ("type" = 'CHARGE' AND "amount" > 0 AND "order_id" IS NOT NULL) OR
  ("type" = 'CANCEL' AND "amount" < 0 AND "order_id" IS NOT NULL) OR
  ("type" = 'SPEND'  AND "amount" < 0)
);
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_balance_after_not_negative" CHECK ("balance_after" >= 0);

-- The ledger is append-only.
CREATE FUNCTION "ledger_entries_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER "ledger_entries_no_update_or_delete"
  BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "ledger_entries_append_only"();

-- Orders: positive integer amounts whose receipt fields add up.
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_amounts_valid" CHECK (
  "amount" > 0 AND "point_amount" > 0 AND "tax_free_amount" >= 0 AND "tax_free_amount" <= "amount"
  AND "vat" >= 0 AND "supplied_amount" >= 0
  AND "supplied_amount" + "vat" + "tax_free_amount" = "amount"
);
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_id_length" CHECK (char_length("id") BETWEEN 6 AND 64);
-- Every state past the Danal approval knows its Danal transaction.
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_approved_has_transaction" CHECK (
  "status" NOT IN ('WaitingForDeposit', 'Paid', 'Canceling', 'CancelUnknown', 'Canceled')
  OR ("danal_transaction_id" IS NOT NULL AND "approved_at" IS NOT NULL)
);
