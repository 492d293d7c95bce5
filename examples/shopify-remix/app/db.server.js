// Replaces the Shopify template's Prisma-based app/db.server.js (and its
// `global.prismaGlobal` hot-reload guard): getPool() keeps one pool per
// process on globalThis, configured from DATABASE_URL (default
// file:./dev.sqlite, relative to the folder the server runs in).
import { getPool, installShutdownHooks } from "shopify-db-pool";

const db = getPool();
// SIGTERM / SIGINT: stop taking work, let in-flight queries finish, close, exit 0.
installShutdownHooks(db);

export default db;

// The Session table of the Shopify app template, as its Prisma migrations
// create it (the refreshToken columns came with a later migration). An app
// that already ran `prisma migrate deploy` has it: nothing is changed then.
const SESSION_TABLE_DDL = {
  sqlite: `CREATE TABLE IF NOT EXISTS "Session" (
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
    "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT,
    "refreshTokenExpires" DATETIME
)`,
  postgres: `CREATE TABLE IF NOT EXISTS "Session" (
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
    "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),
    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
)`,
  mysql: `CREATE TABLE IF NOT EXISTS \`Session\` (
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
    \`emailVerified\` BOOLEAN NULL DEFAULT false,
    \`refreshToken\` VARCHAR(191) NULL,
    \`refreshTokenExpires\` DATETIME(3) NULL,
    PRIMARY KEY (\`id\`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
};

const READY = Symbol.for("shopify-db-pool.example.sessionTable");

/**
 * Creates the Session table if it is missing, once per process (kept on
 * globalThis so a dev-server reload does not run it again). Resolves to true;
 * a failure is logged and rethrown to whoever awaits it.
 */
export function ensureSessionTable() {
  if (!globalThis[READY]) {
    globalThis[READY] = db.execute(SESSION_TABLE_DDL[db.backend]).then(
      () => true,
      (err) => {
        delete globalThis[READY];
        console.error(`[db] creating the Session table failed: ${err.code ?? ""} ${err.message}`);
        throw err;
      },
    );
  }
  return globalThis[READY];
}

// Start at boot; routes that need the table await ensureSessionTable().
ensureSessionTable().catch(() => {});
