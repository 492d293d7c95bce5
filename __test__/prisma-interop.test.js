'use strict'
// PoolSessionStorage and real Prisma 7 on one SQLite file: sessions stored
// by PrismaSessionStorage (@shopify/shopify-app-session-storage-prisma,
// through PrismaClient + @prisma/adapter-better-sqlite3) load equal through
// PoolSessionStorage, and the reverse, for both of Prisma's SQLite DateTime
// formats:
//   - 'unixepoch-ms': INTEGER Unix milliseconds, what Prisma's native
//     (Rust) engine wrote through Prisma 6 — i.e. every existing Shopify
//     template database. Prisma 7 has no native engine; its better-sqlite3
//     adapter writes this format with `timestampFormat: 'unixepoch-ms'`.
//   - 'iso8601': the adapter's default, text like 2030-01-01T00:00:00.000+00:00.
// Both are written by Prisma itself here; no row is forged.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { Session } = require('@shopify/shopify-api')
const { PoolSessionStorage } = require('../lib/index.js')
const { Pool, TMP, isDate } = require('./helpers.js')

const ROOT = path.resolve(__dirname, '..')
const SCHEMA = path.join(__dirname, 'prisma', 'schema.prisma')
const MIGRATION = path.join(__dirname, 'prisma', 'migrations', '20240530213853_create_session_table', 'migration.sql')

let PrismaClient
let PrismaBetterSqlite3
let PrismaSessionStorage
let Database

beforeAll(() => {
  // Generates the client into node_modules/.prisma/client (gitignored).
  // Offline: `prisma generate` only needs the schema engine path to exist.
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', SCHEMA], {
    cwd: ROOT,
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: fs.existsSync('/bin/true') ? '/bin/true' : process.execPath,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
    stdio: 'pipe',
    timeout: 120_000,
  })
  ;({ PrismaClient } = require('@prisma/client'))
  ;({ PrismaBetterSqlite3 } = require('@prisma/adapter-better-sqlite3'))
  ;({ PrismaSessionStorage } = require('@shopify/shopify-app-session-storage-prisma'))
  Database = require('better-sqlite3')
}, 180_000)

/** The sessions an app stores: offline and online, with and without expiry, user info, refresh tokens. */
function sessions(tag) {
  const base = Date.UTC(2030, 0, 1, 12, 0, 0)
  return [
    new Session({
      id: `offline_${tag}.myshopify.com`,
      shop: `${tag}.myshopify.com`,
      state: 'state-1',
      isOnline: false,
      scope: 'read_products,write_products',
      accessToken: 'shpat_offline',
    }),
    new Session({
      id: `offline_expiring_${tag}`,
      shop: `${tag}.myshopify.com`,
      state: 'state-2',
      isOnline: false,
      scope: 'read_products',
      expires: new Date(base + 3_600_000),
      accessToken: 'shpat_expiring',
      refreshToken: 'shprt_refresh',
      refreshTokenExpires: new Date(base + 30 * 86_400_000),
    }),
    new Session({
      id: `${tag}.myshopify.com_12345`,
      shop: `${tag}.myshopify.com`,
      state: 'state-3',
      isOnline: true,
      scope: 'read_orders',
      expires: new Date(base + 86_400_000 + 123),
      accessToken: 'shpua_online',
      onlineAccessInfo: {
        expires_in: 86_400,
        associated_user_scope: 'read_orders',
        associated_user: {
          id: 12345,
          first_name: 'Ada',
          last_name: 'Lovelace',
          email: 'ada@example.com',
          account_owner: true,
          locale: 'en-GB',
          collaborator: false,
          email_verified: true,
        },
      },
    }),
    new Session({
      id: `long_scope_${tag}`,
      shop: `${tag}.myshopify.com`,
      state: 'state-4',
      isOnline: false,
      scope: Array.from({ length: 30 }, (_, i) => `read_scope_number_${i}`).join(','),
      accessToken: 'shpat_long',
    }),
  ]
}

describe.each([
  ['unixepoch-ms', 'integer'],
  ['iso8601', 'text'],
])("Prisma's SQLite DateTime format %s", (timestampFormat, sqliteType) => {
  let file
  let prisma
  let prismaStorage
  let pool
  let poolStorage

  beforeAll(async () => {
    file = path.join(TMP, `prisma-${timestampFormat}-${process.pid}.sqlite`)
    fs.rmSync(file, { force: true })
    // The Shopify template's migration, applied by a third party (better-sqlite3).
    const db = new Database(file)
    db.exec(fs.readFileSync(MIGRATION, 'utf8'))
    db.close()
    prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }, { timestampFormat }) })
    prismaStorage = new PrismaSessionStorage(prisma, { connectionRetries: 1, connectionRetryIntervalMs: 100 })
    await expect(prismaStorage.isReady()).resolves.toBe(true)
    pool = new Pool({ url: `file:${file}` })
    poolStorage = new PoolSessionStorage(pool)
    await expect(poolStorage.isReady()).resolves.toBe(true)
  })

  afterAll(async () => {
    if (prisma) await prisma.$disconnect()
    if (pool) await pool.close()
  })

  async function storedTypes(id) {
    return pool.queryOne('SELECT typeof(expires) AS e, typeof(refreshTokenExpires) AS r, typeof(isOnline) AS b FROM "Session" WHERE id = ?', [id])
  }

  test('stored by PrismaSessionStorage, loaded by PoolSessionStorage: equal', async () => {
    for (const session of sessions('p2p')) {
      await expect(prismaStorage.storeSession(session)).resolves.toBe(true)
      const viaPool = await poolStorage.loadSession(session.id)
      expect(viaPool).toBeInstanceOf(Session)
      expect(session.equals(viaPool)).toBe(true)
      // And the same Session Prisma itself reads back.
      const viaPrisma = await prismaStorage.loadSession(session.id)
      expect(viaPrisma.equals(viaPool)).toBe(true)
      expect(viaPool.toObject()).toEqual(viaPrisma.toObject())
    }
    // Prisma really wrote this format.
    const t = await storedTypes('offline_expiring_p2p')
    expect(t).toEqual({ e: sqliteType, r: sqliteType, b: 'integer' })
  })

  test('stored by PoolSessionStorage, loaded by PrismaSessionStorage: equal, in the format Prisma uses', async () => {
    for (const session of sessions('pool2prisma')) {
      await expect(poolStorage.storeSession(session)).resolves.toBe(true)
      const viaPrisma = await prismaStorage.loadSession(session.id)
      expect(viaPrisma).toBeInstanceOf(Session)
      expect(session.equals(viaPrisma)).toBe(true)
      expect(viaPrisma.toObject()).toEqual((await poolStorage.loadSession(session.id)).toObject())
    }
    // The pool followed the table's format, so Prisma's own comparisons keep working.
    expect(await storedTypes('offline_expiring_pool2prisma')).toEqual({ e: sqliteType, r: sqliteType, b: 'integer' })
    const raw = new Database(file, { readonly: true })
    try {
      const rows = raw.prepare('SELECT id, expires FROM "Session" WHERE id IN (?, ?)').all('offline_expiring_p2p', 'offline_expiring_pool2prisma')
      const [byPrisma, byPool] = ['offline_expiring_p2p', 'offline_expiring_pool2prisma'].map((id) => rows.find((r) => r.id === id).expires)
      expect(typeof byPool).toBe(typeof byPrisma)
      if (sqliteType === 'text') expect(byPool).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/)
    } finally {
      raw.close()
    }
    // Prisma's query on the pool's rows: expires in range, as a Date.
    const found = await prisma.session.findMany({
      where: { id: 'offline_expiring_pool2prisma', expires: { gt: new Date(Date.UTC(2030, 0, 1)) } },
    })
    expect(found).toHaveLength(1)
    expect(found[0].refreshTokenExpires).toEqual(new Date(Date.UTC(2030, 0, 1, 12) + 30 * 86_400_000))
    expect(found[0].userId).toBeNull()
    const online = await prisma.session.findUnique({ where: { id: 'pool2prisma.myshopify.com_12345' } })
    expect(online).toMatchObject({ userId: 12345n, isOnline: true, accountOwner: true, collaborator: false, emailVerified: true })
  })

  test('findSessionsByShop and deletes agree across the two', async () => {
    const shop = 'p2p.myshopify.com'
    const viaPool = (await poolStorage.findSessionsByShop(shop)).map((s) => s.id)
    const viaPrisma = (await prismaStorage.findSessionsByShop(shop)).map((s) => s.id)
    expect(viaPool).toEqual(viaPrisma)
    expect(viaPool).toHaveLength(4)

    await expect(poolStorage.deleteSession('offline_p2p.myshopify.com')).resolves.toBe(true)
    await expect(prismaStorage.loadSession('offline_p2p.myshopify.com')).resolves.toBeUndefined()
    await expect(prismaStorage.deleteSessions(['long_scope_pool2prisma'])).resolves.toBe(true)
    await expect(poolStorage.loadSession('long_scope_pool2prisma')).resolves.toBeUndefined()
  })

  test("the pool's expired-session cleanup sees Prisma's dates", async () => {
    const expired = new Session({
      id: `expired_${timestampFormat}`,
      shop: 'old.myshopify.com',
      state: 's',
      isOnline: true,
      expires: new Date(Date.now() - 60_000),
      accessToken: 'x',
    })
    await prismaStorage.storeSession(expired)
    const before = await prisma.session.count()
    const { deleted } = await pool.cleanupExpiredSessions()
    expect(deleted).toBe(1)
    await expect(prismaStorage.loadSession(expired.id)).resolves.toBeUndefined()
    expect(await prisma.session.count()).toBe(before - 1)
  })

  test('a session overwritten by one side is read as overwritten by the other', async () => {
    const [first] = sessions('overwrite')
    await prismaStorage.storeSession(first)
    const changed = new Session({ ...first, state: 'changed', expires: new Date(Date.UTC(2031, 1, 1)), scope: 'write_orders' })
    await poolStorage.storeSession(changed)
    const viaPrisma = await prismaStorage.loadSession(first.id)
    expect(changed.equals(viaPrisma)).toBe(true)
    expect(isDate(viaPrisma.expires)).toBe(true)
    const again = new Session({ ...changed, state: 'again', expires: undefined })
    await prismaStorage.storeSession(again)
    expect(again.equals(await poolStorage.loadSession(first.id))).toBe(true)
  })
})
