'use strict'
// The Session-shaped rows the bench reads and writes, generated from a fixed
// seed so every run and every backend holds the same data.

const COLUMNS = [
  'id', 'shop', 'state', 'isOnline', 'scope', 'expires', 'accessToken', 'userId',
  'firstName', 'lastName', 'email', 'accountOwner', 'locale', 'collaborator',
  'emailVerified', 'refreshToken', 'refreshTokenExpires',
]

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Tim', 'Radia']
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Berners-Lee', 'Perlman']
const LOCALES = ['en', 'en-US', 'fr', 'de', 'ja', 'pt-BR']
const SCOPES = 'read_products,write_products,read_orders,write_orders,read_customers'

// mulberry32: a small deterministic PRNG.
function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex = (rand, n) => {
  let s = ''
  for (let i = 0; i < n; i++) s += ((rand() * 16) | 0).toString(16)
  return s
}

// The primary key of row n (1-based); pgbench builds the same string in SQL.
const sessionId = (n) => `offline_shop-${n}.myshopify.com`

const BASE_TIME = Date.UTC(2026, 0, 1)

// A template session: offline (three in four) or online with its user.
function makeSession(n, id, rand) {
  const online = n % 4 === 0
  const f = (rand() * FIRST.length) | 0
  const l = (rand() * LAST.length) | 0
  return {
    id,
    shop: `shop-${n}.myshopify.com`,
    state: hex(rand, 15),
    isOnline: online,
    scope: SCOPES,
    expires: online ? new Date(BASE_TIME + (((rand() * 86400) | 0) * 1000)) : null,
    accessToken: `shpat_${hex(rand, 32)}`,
    userId: online ? 70000000000 + n : null,
    firstName: online ? FIRST[f] : null,
    lastName: online ? LAST[l] : null,
    email: online ? `${FIRST[f]}.${LAST[l]}${n}@example.com`.toLowerCase() : null,
    accountOwner: online && n % 8 === 0,
    locale: online ? LOCALES[n % LOCALES.length] : null,
    collaborator: false,
    emailVerified: online,
    refreshToken: n % 3 === 0 ? `shprt_${hex(rand, 32)}` : null,
    refreshTokenExpires: n % 3 === 0 ? new Date(BASE_TIME + 30 * 86400000) : null,
  }
}

function tableRows(count) {
  const rand = rng(42)
  const rows = new Array(count)
  for (let n = 1; n <= count; n++) rows[n - 1] = makeSession(n, sessionId(n), rand)
  return rows
}

// W5's rows: unique ids per run and writer.
function writeRow(tag, writer, i) {
  const rand = rng((writer + 1) * 100003 + i)
  return makeSession(writer * 100000 + i + 1, `w5-${tag}-${writer}-${i}`, rand)
}

// A fixed pseudo-random order of the table's primary keys for the readers.
function readOrder(count, length) {
  const rand = rng(7)
  const ids = new Array(length)
  for (let i = 0; i < length; i++) ids[i] = sessionId(1 + ((rand() * count) | 0))
  return ids
}

// Values in column order, converted for drivers that cannot bind Date or boolean.
function toParams(row, { dates = 'date', booleans = 'boolean' } = {}) {
  return COLUMNS.map((c) => {
    const v = row[c]
    if (v instanceof Date) return dates === 'ms' ? v.getTime() : v
    if (typeof v === 'boolean') return booleans === 'int' ? (v ? 1 : 0) : v
    return v
  })
}

function ddl(backend, table) {
  if (backend === 'sqlite') {
    // As the Shopify template's Prisma migration creates it.
    return `CREATE TABLE "${table}" (
      "id" TEXT NOT NULL PRIMARY KEY, "shop" TEXT NOT NULL, "state" TEXT NOT NULL,
      "isOnline" BOOLEAN NOT NULL DEFAULT false, "scope" TEXT, "expires" DATETIME,
      "accessToken" TEXT NOT NULL, "userId" BIGINT, "firstName" TEXT, "lastName" TEXT,
      "email" TEXT, "accountOwner" BOOLEAN NOT NULL DEFAULT false, "locale" TEXT,
      "collaborator" BOOLEAN DEFAULT false, "emailVerified" BOOLEAN DEFAULT false,
      "refreshToken" TEXT, "refreshTokenExpires" DATETIME)`
  }
  if (backend === 'postgres') {
    return `CREATE TABLE "${table}" (
      "id" TEXT NOT NULL PRIMARY KEY, "shop" TEXT NOT NULL, "state" TEXT NOT NULL,
      "isOnline" BOOLEAN NOT NULL DEFAULT false, "scope" TEXT, "expires" TIMESTAMP(3),
      "accessToken" TEXT NOT NULL, "userId" BIGINT, "firstName" TEXT, "lastName" TEXT,
      "email" TEXT, "accountOwner" BOOLEAN NOT NULL DEFAULT false, "locale" TEXT,
      "collaborator" BOOLEAN DEFAULT false, "emailVerified" BOOLEAN DEFAULT false,
      "refreshToken" TEXT, "refreshTokenExpires" TIMESTAMP(3))`
  }
  return `CREATE TABLE \`${table}\` (
    \`id\` VARCHAR(191) NOT NULL PRIMARY KEY, \`shop\` VARCHAR(191) NOT NULL,
    \`state\` VARCHAR(191) NOT NULL, \`isOnline\` BOOLEAN NOT NULL DEFAULT false,
    \`scope\` VARCHAR(191) NULL, \`expires\` DATETIME(3) NULL,
    \`accessToken\` VARCHAR(191) NOT NULL, \`userId\` BIGINT NULL,
    \`firstName\` VARCHAR(191) NULL, \`lastName\` VARCHAR(191) NULL,
    \`email\` VARCHAR(191) NULL, \`accountOwner\` BOOLEAN NOT NULL DEFAULT false,
    \`locale\` VARCHAR(191) NULL, \`collaborator\` BOOLEAN NULL DEFAULT false,
    \`emailVerified\` BOOLEAN NULL DEFAULT false, \`refreshToken\` VARCHAR(191) NULL,
    \`refreshTokenExpires\` DATETIME(3) NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`
}

// INSERT with `?` placeholders (or $n for PostgreSQL drivers).
function insertSql(backend, table, { dollar = false } = {}) {
  const q = backend === 'mysql' ? '`' : '"'
  const cols = COLUMNS.map((c) => `${q}${c}${q}`).join(', ')
  const marks = COLUMNS.map((_, i) => (dollar ? `$${i + 1}` : '?')).join(', ')
  return `INSERT INTO ${q}${table}${q} (${cols}) VALUES (${marks})`
}

module.exports = {
  COLUMNS, sessionId, tableRows, writeRow, readOrder, toParams, ddl, insertSql,
  READ_TABLE: 'bench_session',
  WRITE_TABLE: 'bench_session_w',
}
