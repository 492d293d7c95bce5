'use strict'
// PoolSessionStorage against real databases (SQLite files; PostgreSQL and
// MySQL when TEST_POSTGRES_URL / TEST_MYSQL_URL are set), on tables created
// as the Shopify app template's Prisma migration creates them, with and
// without the late-2025 refreshToken columns.
//
// The first part runs the cases of Shopify's session-storage test battery
// (@shopify/shopify-app-session-storage-test-utils' batteryOfTests: store
// and load all kinds of sessions, compared with session.equals as it does,
// unexpected fields, user info, online tokens, wrong ids, findSessionsByShop,
// deleteSessions, long scopes, refresh tokens). The rest pins what
// PrismaSessionStorage does (upsert, 25 newest first, isReady) and the row
// format Prisma reads and writes.
const { Session } = require('@shopify/shopify-api')
const { PoolSessionStorage, MissingSessionTableError } = require('../lib/index.js')
const { Pool, backends, tableName, q, dropTable, sleep, isDate, expectThrowsDbError } = require('./helpers.js')
const { sessionTableSql } = require('./session-table.js')

const testScopes = ['test_scope']

/** Shopify's sessionArraysEqual: the same sessions, in any order. */
function sessionArraysEqual(a, b) {
  if (a.length !== b.length) return false
  return a.every((s1) => b.some((s2) => s1.equals(s2)))
}

function inOneHour() {
  const d = new Date()
  d.setMilliseconds(0)
  d.setMinutes(d.getMinutes() + 60)
  return d
}

function fullUser() {
  return {
    associated_user: {
      id: 123,
      first_name: 'first',
      last_name: 'last',
      email: 'email@email.com',
      account_owner: true,
      locale: 'en',
      collaborator: false,
      email_verified: true,
    },
  }
}

const VARIANTS = [
  ['with the refreshToken columns', true],
  ['without the refreshToken columns (a table from before late 2025)', false],
]

describe.each(backends().map((b) => [b.name, b]))('%s', (backendName, backend) => {
  let pool
  const tables = []

  beforeAll(() => {
    pool = new Pool({ url: backend.url() })
  })
  afterAll(async () => {
    for (const t of tables) await dropTable(pool, t)
    await pool.close()
  })

  async function newTable(options = {}) {
    const table = tableName('Session')
    tables.push(table)
    await pool.execute(sessionTableSql(backendName, table, options))
    return table
  }

  /** A storage on a fresh template table; its warnings are kept, not printed. */
  async function storageOn(refreshColumns, options = {}) {
    const table = await newTable({ refreshColumns })
    return { storage: new PoolSessionStorage(pool, { tableName: table, ...options }), table }
  }

  function raw(table, id) {
    return pool.queryOne(`SELECT * FROM ${q(backendName, table)} WHERE ${q(backendName, 'id')} = ?`, [id])
  }

  let warnings
  beforeEach(() => {
    warnings = []
    jest.spyOn(process, 'emitWarning').mockImplementation((message, options) => {
      warnings.push({ message: String(message), code: options && options.code })
    })
  })
  afterEach(() => {
    jest.restoreAllMocks()
  })

  describe.each(VARIANTS)("Shopify's battery, %s", (_variant, refreshColumns) => {
    test('can store and delete all kinds of sessions', async () => {
      const sessionId = 'test_session'
      const base = { id: sessionId, shop: 'shop', state: 'state', isOnline: false, scope: testScopes.toString(), accessToken: '123' }
      const factories = [
        () => new Session({ ...base }),
        () => new Session({ ...base, expires: inOneHour() }),
        () => new Session({ ...base, expires: null }),
        () => new Session({ ...base, expires: undefined }),
        () => new Session({ ...base, isOnline: true }),
        () => new Session({ ...base, isOnline: true, expires: inOneHour() }),
        () => new Session({ ...base, isOnline: true, expires: null }),
        () => new Session({ ...base, isOnline: true, expires: undefined }),
      ]
      const { storage } = await storageOn(refreshColumns)
      for (const factory of factories) {
        const session = factory()
        await expect(storage.storeSession(session)).resolves.toBe(true)
        const stored = await storage.loadSession(sessionId)
        expect(stored).toBeInstanceOf(Session)
        expect(session.equals(stored)).toBe(true)
        expect(stored.isActive(testScopes)).toBe(true)
        await expect(storage.deleteSession(sessionId)).resolves.toBe(true)
        await expect(storage.loadSession(sessionId)).resolves.toBeUndefined()
        // Deleting a session that is not there works too.
        await expect(storage.deleteSession(sessionId)).resolves.toBe(true)
      }
    })

    test('can store sessions with unexpected fields', async () => {
      const { storage } = await storageOn(refreshColumns)
      const session = new Session({ id: 'test_session', shop: 'shop', state: 'state', isOnline: false })
      session.someField = 'lol'
      await expect(storage.storeSession(session)).resolves.toBe(true)
      expect(session.equals(await storage.loadSession('test_session'))).toBe(true)
    })

    test('can store and delete sessions with user info', async () => {
      const { storage } = await storageOn(refreshColumns)
      const session = new Session({
        id: 'test_session',
        shop: 'shop',
        state: 'state',
        isOnline: true,
        scope: testScopes.toString(),
        accessToken: '123',
        onlineAccessInfo: fullUser(),
      })
      await expect(storage.storeSession(session)).resolves.toBe(true)
      const stored = await storage.loadSession('test_session')
      expect(session.equals(stored)).toBe(true)
      expect(stored.onlineAccessInfo).toEqual(fullUser())
      expect(stored.isActive(testScopes)).toBe(true)
      await expect(storage.deleteSession('test_session')).resolves.toBe(true)
      await expect(storage.loadSession('test_session')).resolves.toBeUndefined()
      await expect(storage.deleteSession('test_session')).resolves.toBe(true)
    })

    test('can store and delete sessions with online tokens (a user known by id only, or not at all)', async () => {
      const { storage } = await storageOn(refreshColumns)
      const idOnly = new Session({
        id: 'test_session',
        shop: 'shop',
        state: 'state',
        isOnline: true,
        onlineAccessInfo: { associated_user: { id: 123 } },
      })
      await expect(storage.storeSession(idOnly)).resolves.toBe(true)
      const stored = await storage.loadSession('test_session')
      expect(idOnly.equals(stored)).toBe(true)
      expect(stored.onlineAccessInfo).toEqual({ associated_user: { id: 123 } })

      const noUser = new Session({ id: 'no_user', shop: 'shop', state: 'state', isOnline: true, accessToken: 'x' })
      await storage.storeSession(noUser)
      expect(noUser.equals(await storage.loadSession('no_user'))).toBe(true)
    })

    test('wrong ids return undefined sessions', async () => {
      const { storage } = await storageOn(refreshColumns)
      await expect(storage.loadSession('not_a_session_id')).resolves.toBeUndefined()
    })

    test('can find all the sessions for a given shop', async () => {
      const { storage } = await storageOn(refreshColumns)
      const sessions = [
        new Session({ id: 'find_sessions_1', shop: 'find-shop1-sessions.myshopify.io', state: 'state', isOnline: false }),
        new Session({ id: 'find_sessions_2', shop: 'do-not-find-shop2-sessions.myshopify.io', state: 'state', isOnline: false }),
        new Session({ id: 'find_sessions_3', shop: 'find-shop1-sessions.myshopify.io', state: 'state', isOnline: false }),
        new Session({ id: 'find_sessions_4', shop: 'do-not-find-shop3-sessions.myshopify.io', state: 'state', isOnline: false }),
      ]
      for (const s of sessions) await expect(storage.storeSession(s)).resolves.toBe(true)
      const found = await storage.findSessionsByShop('find-shop1-sessions.myshopify.io')
      expect(found).toHaveLength(2)
      expect(sessionArraysEqual(found, [sessions[0], sessions[2]])).toBe(true)
      await expect(storage.findSessionsByShop('no-such-shop.myshopify.io')).resolves.toEqual([])
    })

    test('can delete the sessions for a given array of ids', async () => {
      const { storage } = await storageOn(refreshColumns)
      const sessions = [
        new Session({ id: 'delete_sessions_1', shop: 'delete-shop1-sessions.myshopify.io', state: 'state', isOnline: false }),
        new Session({ id: 'delete_sessions_2', shop: 'do-not-delete-shop2-sessions.myshopify.io', state: 'state', isOnline: false }),
        new Session({ id: 'delete_sessions_3', shop: 'delete-shop1-sessions.myshopify.io', state: 'state', isOnline: false }),
        new Session({ id: 'delete_sessions_4', shop: 'do-not-delete-shop3-sessions.myshopify.io', state: 'state', isOnline: false }),
      ]
      for (const s of sessions) await expect(storage.storeSession(s)).resolves.toBe(true)
      let shop1 = await storage.findSessionsByShop('delete-shop1-sessions.myshopify.io')
      expect(shop1).toHaveLength(2)
      await expect(storage.deleteSessions(shop1.map((s) => s.id))).resolves.toBe(true)
      shop1 = await storage.findSessionsByShop('delete-shop1-sessions.myshopify.io')
      expect(shop1).toEqual([])
      // The other shops' sessions are untouched; an empty list and unknown ids are fine.
      expect(sessions[1].equals(await storage.loadSession('delete_sessions_2'))).toBe(true)
      expect(sessions[3].equals(await storage.loadSession('delete_sessions_4'))).toBe(true)
      await expect(storage.deleteSessions([])).resolves.toBe(true)
      await expect(storage.deleteSessions(['nope', 'delete_sessions_2'])).resolves.toBe(true)
      await expect(storage.loadSession('delete_sessions_2')).resolves.toBeUndefined()
    })

    test('can store sessions with scope longer than 255 chars', async () => {
      const { storage } = await storageOn(refreshColumns)
      const session = new Session({
        id: 'test_session',
        shop: 'shop',
        state: 'state',
        isOnline: false,
        scope:
          'unauthenticated_read_product_listings,unauthenticated_write_checkouts,unauthenticated_write_customers,unauthenticated_read_customer_tags,unauthenticated_read_content,unauthenticated_read_product_tags,read_orders,read_products,read_script_tags,write_script_tags,read_legal_policies',
      })
      expect(session.scope.length).toBeGreaterThan(255)
      await expect(storage.storeSession(session)).resolves.toBe(true)
      expect(session.equals(await storage.loadSession('test_session'))).toBe(true)
    })

    if (refreshColumns) {
      test('can store and delete sessions with refresh tokens', async () => {
        const { storage } = await storageOn(true)
        const sessionId = 'test_refresh_token_session'
        const withToken = new Session({
          id: sessionId,
          shop: 'shop',
          state: 'state',
          isOnline: false,
          scope: testScopes.toString(),
          accessToken: 'access_token_123',
          refreshToken: 'refresh_token_456',
        })
        await expect(storage.storeSession(withToken)).resolves.toBe(true)
        let stored = await storage.loadSession(sessionId)
        expect(withToken.equals(stored)).toBe(true)
        expect(stored.refreshToken).toBe('refresh_token_456')
        expect(stored.refreshTokenExpires).toBeUndefined()

        const refreshExpiry = new Date()
        refreshExpiry.setMilliseconds(0)
        refreshExpiry.setDate(refreshExpiry.getDate() + 30)
        const withExpiry = new Session({
          id: sessionId,
          shop: 'shop',
          state: 'state',
          isOnline: false,
          scope: testScopes.toString(),
          accessToken: 'access_token_789',
          refreshToken: 'refresh_token_abc',
          refreshTokenExpires: refreshExpiry,
        })
        await expect(storage.storeSession(withExpiry)).resolves.toBe(true)
        stored = await storage.loadSession(sessionId)
        expect(withExpiry.equals(stored)).toBe(true)
        expect(stored.refreshToken).toBe('refresh_token_abc')
        expect(stored.refreshTokenExpires).toEqual(refreshExpiry)

        await expect(storage.deleteSession(sessionId)).resolves.toBe(true)
        await expect(storage.loadSession(sessionId)).resolves.toBeUndefined()
        expect(warnings).toEqual([])
      })
    } else {
      test('refresh tokens are not stored, with one process warning naming the missing columns', async () => {
        const { storage, table } = await storageOn(false)
        const session = new Session({
          id: 'test_refresh_token_session',
          shop: 'shop',
          state: 'state',
          isOnline: false,
          scope: testScopes.toString(),
          accessToken: 'access_token_123',
          refreshToken: 'refresh_token_456',
          refreshTokenExpires: inOneHour(),
        })
        await expect(storage.storeSession(session)).resolves.toBe(true)
        await storage.storeSession(session)
        const stored = await storage.loadSession(session.id)
        expect(stored.refreshToken).toBeUndefined()
        expect(stored.refreshTokenExpires).toBeUndefined()
        expect(new Session({ ...session, refreshToken: undefined, refreshTokenExpires: undefined }).equals(stored)).toBe(true)
        expect(warnings).toHaveLength(1)
        expect(warnings[0].code).toBe('DB_POOL_SESSION_COLUMNS')
        expect(warnings[0].message).toContain(table)
        expect(warnings[0].message).toContain('refreshToken, refreshTokenExpires')
      })
    }
  })

  describe('as PrismaSessionStorage', () => {
    test('storeSession upserts: a second store of the same id replaces every field', async () => {
      const { storage, table } = await storageOn(true)
      const first = new Session({
        id: 'offline_a.myshopify.com',
        shop: 'a.myshopify.com',
        state: 's1',
        isOnline: true,
        scope: 'read_products',
        expires: inOneHour(),
        accessToken: 'token-1',
        refreshToken: 'r1',
        onlineAccessInfo: fullUser(),
      })
      await expect(storage.storeSession(first)).resolves.toBe(true)
      const second = new Session({
        id: 'offline_a.myshopify.com',
        shop: 'b.myshopify.com',
        state: 's2',
        isOnline: false,
        scope: 'write_products',
        accessToken: 'token-2',
      })
      await expect(storage.storeSession(second)).resolves.toBe(true)
      const stored = await storage.loadSession(second.id)
      expect(second.equals(stored)).toBe(true)
      expect(first.equals(stored)).toBe(false)
      const count = await pool.queryOne(`SELECT count(*) AS n FROM ${q(backendName, table)}`)
      expect(count.n).toBe(1)
      const row = await raw(table, second.id)
      expect(row).toMatchObject({ userId: null, firstName: null, expires: null, refreshToken: null, accountOwner: false })
    })

    test('concurrent stores of one id: every one resolves true, one row', async () => {
      const { storage, table } = await storageOn(true)
      const sessions = Array.from(
        { length: 10 },
        (_, i) => new Session({ id: 'same', shop: 'shop', state: `state-${i}`, isOnline: false, accessToken: `t${i}` }),
      )
      await expect(Promise.all(sessions.map((s) => storage.storeSession(s)))).resolves.toEqual(Array(10).fill(true))
      const count = await pool.queryOne(`SELECT count(*) AS n FROM ${q(backendName, table)}`)
      expect(count.n).toBe(1)
      const stored = await storage.loadSession('same')
      expect(sessions.some((s) => s.equals(stored))).toBe(true)
    })

    test('findSessionsByShop: at most 25, latest expires first', async () => {
      const { storage } = await storageOn(true)
      const start = Date.UTC(2030, 0, 1)
      // 30 sessions, stored in a scrambled order, expiring a minute apart.
      const order = Array.from({ length: 30 }, (_, i) => (i * 7) % 30)
      for (const i of order) {
        await storage.storeSession(
          new Session({ id: `s${i}`, shop: 'many.myshopify.com', state: 'x', isOnline: true, expires: new Date(start + i * 60_000) }),
        )
      }
      await storage.storeSession(new Session({ id: 'other', shop: 'other.myshopify.com', state: 'x', isOnline: false }))
      const found = await storage.findSessionsByShop('many.myshopify.com')
      expect(found).toHaveLength(25)
      expect(found.map((s) => s.id)).toEqual(Array.from({ length: 25 }, (_, k) => `s${29 - k}`))
      expect(found[0].expires).toEqual(new Date(start + 29 * 60_000))
      for (const s of found) expect(s).toBeInstanceOf(Session)
    })

    test("findSessionsByShop puts sessions without expiry where Prisma's orderBy desc does on this backend", async () => {
      const { storage } = await storageOn(true)
      const base = Date.UTC(2030, 0, 1)
      await storage.storeSession(new Session({ id: 'never', shop: 'n.myshopify.com', state: 'x', isOnline: false }))
      await storage.storeSession(new Session({ id: 'early', shop: 'n.myshopify.com', state: 'x', isOnline: true, expires: new Date(base) }))
      await storage.storeSession(
        new Session({ id: 'late', shop: 'n.myshopify.com', state: 'x', isOnline: true, expires: new Date(base + 1000) }),
      )
      const ids = (await storage.findSessionsByShop('n.myshopify.com')).map((s) => s.id)
      // ORDER BY "expires" DESC: PostgreSQL sorts NULL first, SQLite and MySQL last.
      expect(ids).toEqual(backendName === 'postgres' ? ['never', 'late', 'early'] : ['late', 'early', 'never'])
    })

    test('deleteSession of a missing id, twice: true', async () => {
      const { storage } = await storageOn(true)
      await expect(storage.deleteSession('missing')).resolves.toBe(true)
      await expect(storage.deleteSession('missing')).resolves.toBe(true)
    })

    test('deleteSessions with more ids than one statement takes: all deleted', async () => {
      const { storage, table } = await storageOn(true)
      const ids = Array.from({ length: 1200 }, (_, i) => `bulk_${i}`)
      const values = ids.map(() => '(?, ?, ?, ?)').join(', ')
      await pool.execute(
        `INSERT INTO ${q(backendName, table)} (${['id', 'shop', 'state', 'accessToken'].map((c) => q(backendName, c)).join(', ')}) VALUES ${values}`,
        ids.flatMap((id) => [id, 'bulk.myshopify.com', 's', '']),
      )
      await expect(storage.deleteSessions([...ids, ids[0]])).resolves.toBe(true)
      const left = await pool.queryOne(`SELECT count(*) AS n FROM ${q(backendName, table)}`)
      expect(left.n).toBe(0)
    })

    test('isReady waits for a table created after a delay', async () => {
      const table = tableName('Late')
      tables.push(table)
      const storage = new PoolSessionStorage(pool, { tableName: table, connectionRetries: 20, connectionRetryIntervalMs: 100 })
      const started = Date.now()
      const ready = storage.isReady()
      // A store issued meanwhile waits for the table as well.
      const stored = storage.storeSession(new Session({ id: 'early', shop: 'shop', state: 'x', isOnline: false }))
      await sleep(500)
      await pool.execute(sessionTableSql(backendName, table))
      await expect(ready).resolves.toBe(true)
      await expect(stored).resolves.toBe(true)
      expect(Date.now() - started).toBeGreaterThanOrEqual(450)
      expect((await storage.loadSession('early')).state).toBe('x')
    })

    test('isReady reports a missing table after its retries with a clear error; so does every method', async () => {
      const table = tableName('Nowhere')
      const storage = new PoolSessionStorage(pool, { tableName: table, connectionRetries: 2, connectionRetryIntervalMs: 150 })
      const started = Date.now()
      let error
      try {
        await storage.isReady()
      } catch (e) {
        error = e
      }
      const elapsed = Date.now() - started
      expect(error).toBeInstanceOf(MissingSessionTableError)
      expect(error.code).toBe('SESSION_TABLE_MISSING')
      expect(error.name).toBe('MissingSessionTableError')
      expect(error.message).toContain(`"${table}" does not exist`)
      expect(error.message).toContain('3 checks over 300 ms')
      expect(elapsed).toBeGreaterThanOrEqual(290)
      expect(elapsed).toBeLessThan(5000)
      await expect(storage.loadSession('x')).rejects.toThrow(MissingSessionTableError)
      await expect(storage.storeSession(new Session({ id: 'x', shop: 's', state: 's', isOnline: false }))).rejects.toThrow(
        /does not exist/,
      )
      await expect(storage.deleteSession('x')).rejects.toThrow(MissingSessionTableError)
      await expect(storage.findSessionsByShop('s')).rejects.toThrow(MissingSessionTableError)
    })

    test('isReady names the required columns a table lacks', async () => {
      const table = tableName('Partial')
      tables.push(table)
      const text = backendName === 'mysql' ? 'VARCHAR(191)' : 'TEXT'
      await pool.execute(`CREATE TABLE ${q(backendName, table)} (${q(backendName, 'id')} ${text} PRIMARY KEY, ${q(backendName, 'shop')} ${text})`)
      const storage = new PoolSessionStorage(pool, { tableName: table, connectionRetries: 0 })
      const error = await storage.isReady().then(
        () => null,
        (e) => e,
      )
      expect(error).toBeInstanceOf(MissingSessionTableError)
      expect(error.missingColumns).toEqual(['state', 'isOnline', 'scope', 'expires', 'accessToken'])
      expect(error.message).toContain('lacks the column(s) state, isOnline, scope, expires, accessToken')
    })

    test('an unreachable database: isReady rejects with the connection error after its retries', async () => {
      const url = backendName === 'sqlite' ? 'file:/nonexistent-dir/x/y.sqlite' : backend.url().replace(/:\d+\//, ':1/')
      const down = new Pool({ url, connectTimeoutMs: 1000 })
      try {
        const storage = new PoolSessionStorage(down, { connectionRetries: 1, connectionRetryIntervalMs: 50 })
        const error = await storage.isReady().then(
          () => null,
          (e) => e,
        )
        expect(error).not.toBeNull()
        expect(error).not.toBeInstanceOf(MissingSessionTableError)
        expect(error.code).toBe('CONNECTION_FAILED')
        expect(error.message).toContain('could not check the session table "Session" (2 checks over 50 ms)')
        expect(error.cause.code).toBe('CONNECTION_FAILED')
      } finally {
        await down.close()
      }
    })

    test('a closed pool: isReady rejects with POOL_CLOSED at once, without waiting out the retries', async () => {
      const closed = new Pool({ url: backend.url() })
      await closed.close()
      const storage = new PoolSessionStorage(closed, { connectionRetries: 5, connectionRetryIntervalMs: 2000 })
      const started = Date.now()
      const error = await storage.isReady().then(
        () => null,
        (e) => e,
      )
      expect(Date.now() - started).toBeLessThan(1000)
      expect(error.code).toBe('POOL_CLOSED')
      await expect(storage.loadSession('x')).rejects.toMatchObject({ code: 'POOL_CLOSED' })
    })

    test('options are checked at construction', () => {
      expectThrowsDbError(() => new PoolSessionStorage(undefined), 'INVALID_ARGUMENT')
      expectThrowsDbError(() => new PoolSessionStorage(pool, { tableName: 'Session; DROP TABLE x' }), 'INVALID_ARGUMENT')
      expectThrowsDbError(() => new PoolSessionStorage(pool, { tableName: 'a.b.c' }), 'INVALID_ARGUMENT')
      expectThrowsDbError(() => new PoolSessionStorage(pool, { connectionRetries: -1 }), 'INVALID_ARGUMENT')
      expectThrowsDbError(() => new PoolSessionStorage(pool, { connectionRetryIntervalMs: 'soon' }), 'INVALID_ARGUMENT')
      expectThrowsDbError(() => new PoolSessionStorage(pool, { sqliteTimestampFormat: 'julian' }), 'INVALID_ARGUMENT')
      const storage = new PoolSessionStorage(pool)
      expect(storage).toMatchObject({ tableName: 'Session', connectionRetries: 2, connectionRetryIntervalMs: 5000 })
    })
  })

  describe('rows as Prisma writes them', () => {
    test('an online session with user info, expiry and refresh token', async () => {
      const { storage, table } = await storageOn(true)
      const expires = new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 123))
      const refreshTokenExpires = new Date(Date.UTC(2031, 5, 6, 7, 8, 9, 456))
      await storage.storeSession(
        new Session({
          id: 'online_1',
          shop: 'a.myshopify.com',
          state: 'st',
          isOnline: true,
          scope: 'read_products',
          expires,
          accessToken: 'tok',
          refreshToken: 'ref',
          refreshTokenExpires,
          onlineAccessInfo: fullUser(),
        }),
      )
      const row = await raw(table, 'online_1')
      expect(row).toMatchObject({
        id: 'online_1',
        shop: 'a.myshopify.com',
        state: 'st',
        isOnline: true,
        scope: 'read_products',
        accessToken: 'tok',
        userId: 123,
        firstName: 'first',
        lastName: 'last',
        email: 'email@email.com',
        accountOwner: true,
        locale: 'en',
        collaborator: false,
        emailVerified: true,
        refreshToken: 'ref',
      })
      expect(isDate(row.expires) && row.expires.getTime()).toBe(expires.getTime())
      expect(isDate(row.refreshTokenExpires) && row.refreshTokenExpires.getTime()).toBe(refreshTokenExpires.getTime())

      // The stored representation itself, as Prisma keeps a DateTime / Boolean / BigInt.
      const E = q(backendName, 'expires')
      const sql = {
        sqlite: `SELECT ${E} + 0 AS e, typeof(${E}) AS te, typeof("isOnline") AS tb, "isOnline" + 0 AS b, typeof("userId") AS tu FROM "${table}" WHERE id = ?`,
        postgres: `SELECT ${E}::text AS e, pg_typeof(${E})::text AS te, pg_typeof("isOnline")::text AS tb, pg_typeof("userId")::text AS tu FROM "${table}" WHERE id = ?`,
        mysql: `SELECT CAST(${E} AS CHAR) AS e, ${q('mysql', 'isOnline')} + 0 AS b, ${q('mysql', 'userId')} + 0 AS u FROM \`${table}\` WHERE id = ?`,
      }[backendName]
      const stored = await pool.queryOne(sql, ['online_1'])
      if (backendName === 'sqlite') {
        // Prisma's native engine: INTEGER Unix ms, booleans 0/1, BIGINT integers.
        expect(stored).toEqual({ e: expires.getTime(), te: 'integer', tb: 'integer', b: 1, tu: 'integer' })
      } else if (backendName === 'postgres') {
        // timestamp(3) holding the UTC wall clock, boolean, bigint.
        expect(stored).toEqual({
          e: '2031-05-06 07:08:09.123',
          te: 'timestamp without time zone',
          tb: 'boolean',
          tu: 'bigint',
        })
      } else {
        // datetime(3) in UTC, tinyint(1) 1, bigint.
        expect(stored).toEqual({ e: '2031-05-06 07:08:09.123', b: 1, u: 123 })
      }
    })

    test('an offline session without extras: accessToken "", user flags false, the rest NULL', async () => {
      const { storage, table } = await storageOn(true)
      await storage.storeSession(new Session({ id: 'offline_1', shop: 'a.myshopify.com', state: 'st', isOnline: false }))
      const row = await raw(table, 'offline_1')
      expect(row).toEqual({
        id: 'offline_1',
        shop: 'a.myshopify.com',
        state: 'st',
        isOnline: false,
        scope: null,
        expires: null,
        accessToken: '',
        userId: null,
        firstName: null,
        lastName: null,
        email: null,
        accountOwner: false,
        locale: null,
        collaborator: false,
        emailVerified: false,
        refreshToken: null,
        refreshTokenExpires: null,
      })
    })

    test('rows written by hand the way Prisma does load as the matching Session', async () => {
      const table = await newTable()
      const cols = ['id', 'shop', 'state', 'isOnline', 'scope', 'expires', 'accessToken', 'userId', 'firstName', 'lastName', 'email', 'accountOwner', 'locale', 'collaborator', 'emailVerified', 'refreshToken', 'refreshTokenExpires']
      const expires = new Date(Date.UTC(2032, 0, 2, 3, 4, 5, 678))
      await pool.execute(
        `INSERT INTO ${q(backendName, table)} (${cols.map((c) => q(backendName, c)).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        ['u1', 'b.myshopify.com', 'st', true, 'read_orders', expires, 'tok', 9876543210, 'Ada', 'Lovelace', 'ada@example.com', false, 'fr', true, false, null, null],
      )
      const storage = new PoolSessionStorage(pool, { tableName: table })
      const session = await storage.loadSession('u1')
      const expected = new Session({
        id: 'u1',
        shop: 'b.myshopify.com',
        state: 'st',
        isOnline: true,
        scope: 'read_orders',
        expires,
        accessToken: 'tok',
        onlineAccessInfo: {
          associated_user: {
            id: 9876543210,
            first_name: 'Ada',
            last_name: 'Lovelace',
            email: 'ada@example.com',
            account_owner: false,
            locale: 'fr',
            collaborator: true,
            email_verified: false,
          },
        },
      })
      expect(expected.equals(session)).toBe(true)
      expect(session.expires).toEqual(expires)
    })

    if (backendName === 'postgres') {
      test('a table created without quotes (lower-case columns) works too', async () => {
        const table = tableName('lower').toLowerCase()
        tables.push(table)
        await pool.execute(sessionTableSql('postgres', table).replace(/"([A-Za-z_0-9]+)"/g, (_, n) => n.toLowerCase()))
        const storage = new PoolSessionStorage(pool, { tableName: table })
        const session = new Session({
          id: 'x',
          shop: 's',
          state: 'st',
          isOnline: true,
          expires: inOneHour(),
          accessToken: 't',
          refreshToken: 'r',
          onlineAccessInfo: fullUser(),
        })
        await storage.storeSession(session)
        expect(session.equals(await storage.loadSession('x'))).toBe(true)
        expect((await storage.findSessionsByShop('s')).map((s) => s.id)).toEqual(['x'])
      })
    }

    if (backendName === 'sqlite') {
      describe("Prisma's driver-adapter date format (ISO 8601 text)", () => {
        const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/

        test('a table holding ISO text gets ISO text; both formats load and sort together', async () => {
          const table = await newTable()
          // A row as @prisma/adapter-better-sqlite3 writes it (its default timestampFormat).
          await pool.execute(
            `INSERT INTO "${table}" (id, shop, state, isOnline, expires, accessToken) VALUES (?, ?, ?, ?, ?, ?)`,
            ['iso_row', 'shop', 'st', 1, '2030-01-01T00:00:00.500+00:00', 'tok'],
          )
          const storage = new PoolSessionStorage(pool, { tableName: table })
          const loaded = await storage.loadSession('iso_row')
          expect(loaded.expires).toEqual(new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 500)))

          const later = new Session({
            id: 'pool_row',
            shop: 'shop',
            state: 'st',
            isOnline: false,
            expires: new Date(Date.UTC(2030, 0, 1, 0, 0, 1, 0)),
            refreshTokenExpires: new Date(Date.UTC(2030, 2, 1)),
            refreshToken: 'r',
          })
          await storage.storeSession(later)
          const stored = await pool.queryOne(
            `SELECT expires AS e, typeof(expires) AS t, refreshTokenExpires AS r FROM "${table}" WHERE id = ?`,
            ['pool_row'],
          )
          expect(stored.t).toBe('text')
          // Read through a DATETIME column the pool gives a Date; the text itself:
          const text = await pool.queryOne(`SELECT CAST(expires AS TEXT) AS e, CAST(refreshTokenExpires AS TEXT) AS r FROM "${table}" WHERE id = ?`, [
            'pool_row',
          ])
          expect(text).toEqual({ e: '2030-01-01T00:00:01.000+00:00', r: '2030-03-01T00:00:00.000+00:00' })
          expect(text.e).toMatch(ISO)
          expect(later.equals(await storage.loadSession('pool_row'))).toBe(true)

          // An integer-ms row in the same table (the other engine) still sorts by time.
          await pool.execute(`INSERT INTO "${table}" (id, shop, state, expires, accessToken) VALUES (?, ?, ?, ?, ?)`, [
            'ms_row',
            'shop',
            'st',
            Date.UTC(2030, 0, 1, 0, 0, 0, 750),
            '',
          ])
          const order = (await storage.findSessionsByShop('shop')).map((s) => s.id)
          expect(order).toEqual(['pool_row', 'ms_row', 'iso_row'])
        })

        test('sqliteTimestampFormat forces the encoding', async () => {
          const table = await newTable()
          const iso = new PoolSessionStorage(pool, { tableName: table, sqliteTimestampFormat: 'iso8601' })
          const ms = new PoolSessionStorage(pool, { tableName: table, sqliteTimestampFormat: 'unixepoch-ms' })
          const when = new Date(Date.UTC(2030, 5, 1))
          await iso.storeSession(new Session({ id: 'a', shop: 's', state: 'x', isOnline: false, expires: when }))
          await ms.storeSession(new Session({ id: 'b', shop: 's', state: 'x', isOnline: false, expires: when }))
          const rows = await pool.query(`SELECT id, typeof(expires) AS t FROM "${table}" ORDER BY id`)
          expect(rows).toEqual([
            { id: 'a', t: 'text' },
            { id: 'b', t: 'integer' },
          ])
          for (const id of ['a', 'b']) expect((await ms.loadSession(id)).expires).toEqual(when)
        })

        test('an empty table gets integer ms (the native engine format)', async () => {
          const table = await newTable()
          const storage = new PoolSessionStorage(pool, { tableName: table })
          await storage.storeSession(new Session({ id: 'a', shop: 's', state: 'x', isOnline: false, expires: inOneHour() }))
          await expect(pool.queryOne(`SELECT typeof(expires) AS t FROM "${table}"`)).resolves.toEqual({ t: 'integer' })
        })
      })
    }
  })
})
