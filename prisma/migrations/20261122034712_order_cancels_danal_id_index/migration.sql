-- CreateIndex
CREATE INDEX "order_cancels_danal_cancel_transaction_id_idx" ON "order_cancels"("danal_cancel_transaction_id");
