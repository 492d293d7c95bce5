//! Shopify session upkeep on the Prisma template's `Session` table.

pub mod cleanup;
