-- AlterEnum
-- On its own: PostgreSQL cannot use a new enum value in the transaction that
-- adds it, and the next migration's constraints name it.
ALTER TYPE "order_status" ADD VALUE 'PartialCanceled';
