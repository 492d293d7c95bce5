'use strict'
// The Shopify app template's Prisma `Session` model, as `prisma migrate`
// creates it on each backend (Prisma's DDL, column for column):
//
//   model Session {
//     id String @id; shop String; state String; isOnline Boolean @default(false)
//     scope String?; expires DateTime?; accessToken String; userId BigInt?
//     firstName String?; lastName String?; email String?
//     accountOwner Boolean @default(false); locale String?
//     collaborator Boolean? @default(false); emailVerified Boolean? @default(false)
//     refreshToken String?; refreshTokenExpires DateTime?   // since late 2025
//   }
//
// MySQL maps `String` to VARCHAR(191); Shopify's docs have `scope` as
// `@db.Text` there so that long scope lists fit, which this follows.

function sessionTableSql(backend, table, { refreshColumns = true } = {}) {
  if (backend === 'sqlite') {
    return `CREATE TABLE "${table}" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" DATETIME,
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false,
    "emailVerified" BOOLEAN DEFAULT false${
      refreshColumns
        ? `,
    "refreshToken" TEXT,
    "refreshTokenExpires" DATETIME`
        : ''
    }
)`
  }
  if (backend === 'postgres') {
    return `CREATE TABLE "${table}" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" TIMESTAMP(3),
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false,
    "emailVerified" BOOLEAN DEFAULT false,${
      refreshColumns
        ? `
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),`
        : ''
    }
    CONSTRAINT "${table}_pkey" PRIMARY KEY ("id")
)`
  }
  if (backend === 'mysql') {
    return `CREATE TABLE \`${table}\` (
    \`id\` VARCHAR(191) NOT NULL,
    \`shop\` VARCHAR(191) NOT NULL,
    \`state\` VARCHAR(191) NOT NULL,
    \`isOnline\` BOOLEAN NOT NULL DEFAULT false,
    \`scope\` TEXT NULL,
    \`expires\` DATETIME(3) NULL,
    \`accessToken\` VARCHAR(191) NOT NULL,
    \`userId\` BIGINT NULL,
    \`firstName\` VARCHAR(191) NULL,
    \`lastName\` VARCHAR(191) NULL,
    \`email\` VARCHAR(191) NULL,
    \`accountOwner\` BOOLEAN NOT NULL DEFAULT false,
    \`locale\` VARCHAR(191) NULL,
    \`collaborator\` BOOLEAN NULL DEFAULT false,
    \`emailVerified\` BOOLEAN NULL DEFAULT false,${
      refreshColumns
        ? `
    \`refreshToken\` VARCHAR(191) NULL,
    \`refreshTokenExpires\` DATETIME(3) NULL,`
        : ''
    }
    PRIMARY KEY (\`id\`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`
  }
  throw new Error(`unknown backend ${backend}`)
}

async function createSessionTable(pool, table, options) {
  await pool.execute(sessionTableSql(pool.backend, table, options))
}

module.exports = { sessionTableSql, createSessionTable }
