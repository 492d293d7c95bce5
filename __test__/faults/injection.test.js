'use strict'
// Fault 7: injection. Session fields and shop names full of quotes,
// semicolons, comment markers, placeholders, unicode and NUL bytes
// round-trip as data on every backend, through plain statements and through
// PoolSessionStorage; the table is intact afterwards. PostgreSQL text cannot
// hold NUL: there a coded QUERY_FAILED (22021) is the right answer, and
// nothing is stored half. Hostile identifiers are refused (INVALID_ARGUMENT,
// nothing sent) by cleanupExpiredSessions({ table }), maintenanceAction's
// table and PoolSessionStorage's tableName.
const fc = require('fast-check')
const { Session } = require('@shopify/shopify-api')
const H = require('./harness')
const { sessionTableSql } = require('../session-table')
const { PoolSessionStorage, maintenanceAction } = require('../../lib/index.js')

const scan = H.installSecretScan('injection')

/** Strings an attacker would try, with the real table's name spliced in. */
function hostileStrings(table, quote) {
  return [
    "'",
    "''",
    '"',
    '`',
    `'; DROP TABLE ${quote(table)}; --`,
    `"; DROP TABLE ${table}; --`,
    `\`; DROP TABLE ${table}; #`,
    "' OR '1'='1",
    '" OR "1"="1',
    "') OR 1=1 --",
    "Robert'); DROP TABLE Students;--",
    "admin'--",
    "'; SELECT pg_sleep(5); --",
    "' UNION SELECT NULL, NULL --",
    '\\',
    "\\'",
    '\\"',
    "\\'; DROP TABLE x; --",
    '/* comment */',
    '*/ SELECT 1 /*',
    '-- ',
    '#',
    ';',
    ';;',
    '?',
    '??',
    '? ? ?',
    '$1',
    '$2 $1',
    '$$ dollar $$',
    ':name',
    '@var',
    '%s %d %%',
    '{}',
    '${process.exit()}',
    '\u2028\u2029',
    'e\u0301',
    '😀👩‍👩‍👧‍👦',
    'עברית',
    '\u202Eevil',
    '\uFEFF',
    '\u200B',
    'Ω≈ç√∫˜µ≤≥÷',
    '\r\n\t',
    'NULL',
    'null',
    'undefined',
    "' AND 1=CAST((SELECT version()) AS int) --",
    'x'.repeat(190),
  ]
}

const NUL_STRINGS = ['a\u0000b', '\u0000', "'\u0000; DROP TABLE x; --", '\u0000\u0000\u0000']

describe.each(H.backends())('injection on $name', (backend) => {
  let url
  let account = null
  let pool
  const tables = []
  const quote = (name) => H.q(backend.name, name)

  beforeAll(async () => {
    if (backend.name === 'postgres') url = await H.postgresUrl()
    else if (backend.name === 'mysql') {
      account = await H.mysqlAccount()
      url = account.url
    } else url = backend.url()
    pool = new H.Pool({ url, maxConnections: 4 })
  }, 60000)

  afterAll(async () => {
    if (pool) {
      for (const t of tables) await H.dropTable(pool, t)
      await pool.close()
    }
    if (account) await account.drop()
  }, 60000)

  async function dataTable() {
    const table = H.tableName('inj')
    tables.push(table)
    const id = backend.name === 'mysql' ? 'INT PRIMARY KEY' : 'INTEGER PRIMARY KEY'
    await pool.execute(`CREATE TABLE ${quote(table)} (id ${id}, v TEXT NOT NULL)${H.tableOptions(backend.name)}`)
    return table
  }

  async function sessionTable() {
    const table = H.tableName('Session')
    tables.push(table)
    await pool.execute(sessionTableSql(backend.name, table))
    return table
  }

  async function count(table) {
    return Number((await pool.queryOne(`SELECT count(*) AS n FROM ${quote(table)}`)).n)
  }

  test('hostile strings round-trip as data through INSERT/SELECT/UPDATE/DELETE; the table is intact', async () => {
    const table = await dataTable()
    const T = quote(table)
    const strings = hostileStrings(table, quote)
    for (let i = 0; i < strings.length; i++) {
      await pool.execute(`INSERT INTO ${T} (id, v) VALUES (?, ?)`, [i, strings[i]])
    }
    expect(await count(table)).toBe(strings.length)
    const rows = await pool.query(`SELECT id, v FROM ${T} ORDER BY id`)
    expect(rows.map((r) => r.v)).toEqual(strings)
    // Found by value (the row itself is among the matches; case-insensitive
    // collations may add look-alikes such as NULL/null on MySQL).
    for (let i = 0; i < strings.length; i++) {
      const found = await pool.query(`SELECT id FROM ${T} WHERE v = ?`, [strings[i]])
      expect(found.map((r) => Number(r.id))).toContain(i)
    }
    // Hostile text in an UPDATE and a DELETE's WHERE touches exactly its row.
    const victim = strings.indexOf("' OR '1'='1")
    expect((await pool.execute(`UPDATE ${T} SET v = ? WHERE v = ? AND id = ?`, ["'; --", "' OR '1'='1", victim])).rowsAffected).toBe(1)
    expect((await pool.execute(`DELETE FROM ${T} WHERE v = ?`, ["'; --"])).rowsAffected).toBe(1)
    expect(await count(table)).toBe(strings.length - 1)
    // And in a batch and a transaction.
    await pool.batch(strings.slice(0, 5).map((s, k) => ({ sql: `INSERT INTO ${T} (id, v) VALUES (?, ?)`, params: [1000 + k, s] })))
    await pool.transaction((tx) => tx.execute(`INSERT INTO ${T} (id, v) VALUES (?, ?)`, [2000, strings[4]]))
    expect((await pool.queryOne(`SELECT v FROM ${T} WHERE id = ?`, [2000])).v).toBe(strings[4])
    expect(await count(table)).toBe(strings.length - 1 + 6)
  })

  test('random unicode strings (fast-check) round-trip exactly', async () => {
    const table = await dataTable()
    const T = quote(table)
    let id = 0
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.fullUnicodeString({ maxLength: 60 }),
          fc.array(fc.constantFrom("'", '"', '`', ';', '--', '/*', '*/', '?', '$1', '\\', '😀', 'é', ' '), { maxLength: 20 }).map((a) => a.join('')),
        ),
        async (s) => {
          const value = backend.name === 'postgres' ? s.replace(/\u0000/g, '') : s
          id += 1
          await pool.execute(`INSERT INTO ${T} (id, v) VALUES (?, ?)`, [id, value])
          const row = await pool.queryOne(`SELECT v FROM ${T} WHERE id = ?`, [id])
          if (row.v !== value) throw new Error(`stored ${JSON.stringify(value)}, read ${JSON.stringify(row.v)}`)
        },
      ),
      { numRuns: 150 },
    )
    expect(await count(table)).toBe(id)
  }, 120000)

  test('NUL bytes: stored and read back exactly, or (PostgreSQL text) refused with a coded QUERY_FAILED and nothing stored', async () => {
    const table = await dataTable()
    const T = quote(table)
    for (let i = 0; i < NUL_STRINGS.length; i++) {
      const r = await scan.settle(pool.execute(`INSERT INTO ${T} (id, v) VALUES (?, ?)`, [i, NUL_STRINGS[i]]), 'NUL insert')
      if (backend.name === 'postgres') {
        expect(r.ok).toBe(false)
        expect(r.code).toBe('QUERY_FAILED')
        expect(r.error.sqlState).toBe('22021')
      } else {
        expect(r.ok ? 'stored' : `${r.code}: ${r.error.message}`).toBe('stored')
        const row = await pool.queryOne(`SELECT v FROM ${T} WHERE id = ?`, [i])
        // Not truncated at the NUL, not altered.
        expect(row && row.v).toBe(NUL_STRINGS[i])
      }
    }
    expect(await count(table)).toBe(backend.name === 'postgres' ? 0 : NUL_STRINGS.length)
    // As a BLOB/BYTEA the same bytes are fine everywhere.
    const blobTable = H.tableName('injb')
    tables.push(blobTable)
    const blob = { sqlite: 'BLOB', postgres: 'BYTEA', mysql: 'LONGBLOB' }[backend.name]
    await pool.execute(`CREATE TABLE ${quote(blobTable)} (id INTEGER PRIMARY KEY, b ${blob})${H.tableOptions(backend.name)}`)
    const bytes = Buffer.from("a\u0000'; DROP TABLE x; --\u0000", 'utf8')
    await pool.execute(`INSERT INTO ${quote(blobTable)} (id, b) VALUES (?, ?)`, [1, bytes])
    const back = await pool.queryOne(`SELECT b FROM ${quote(blobTable)} WHERE id = ?`, [1])
    expect(Buffer.compare(Buffer.from(back.b), bytes)).toBe(0)
  })

  test('PoolSessionStorage: hostile ids, shops and fields round-trip; findSessionsByShop and deletes touch only their rows', async () => {
    const table = await sessionTable()
    const storage = new PoolSessionStorage(pool, { tableName: table })
    const strings = hostileStrings(table, quote).filter((s) => s.length <= 100)
    const sessions = strings.map((s, i) => {
      const session = new Session({
        id: `${s}#${i}`,
        shop: `${s}.myshopify.com`,
        state: s,
        isOnline: i % 2 === 0,
        scope: `read_products,${s}`,
        expires: new Date(Date.UTC(2031, 0, 1) + i * 1000),
        accessToken: `shpat_${s}`,
      })
      if (i % 2 === 0) {
        session.onlineAccessInfo = {
          expires_in: 3600,
          associated_user_scope: 'read_products',
          associated_user: { id: 1000 + i, first_name: s, last_name: `${s}'`, email: `${i}@example.com`, account_owner: true, locale: s.slice(0, 20), collaborator: false, email_verified: true },
        }
      }
      return session
    })
    for (const s of sessions) expect(await storage.storeSession(s)).toBe(true)
    expect(await count(table)).toBe(sessions.length)
    for (const s of sessions) {
      const loaded = await storage.loadSession(s.id)
      expect(loaded).toBeDefined()
      expect({ id: loaded.id, shop: loaded.shop, state: loaded.state, scope: loaded.scope, accessToken: loaded.accessToken }).toEqual({
        id: s.id,
        shop: s.shop,
        state: s.state,
        scope: s.scope,
        accessToken: s.accessToken,
      })
      if (s.onlineAccessInfo) {
        expect(loaded.onlineAccessInfo.associated_user.first_name).toBe(s.onlineAccessInfo.associated_user.first_name)
        expect(loaded.onlineAccessInfo.associated_user.last_name).toBe(s.onlineAccessInfo.associated_user.last_name)
      }
    }
    // Each hostile shop finds exactly its own session (no wildcard, no injection).
    for (const s of sessions) {
      const found = await storage.findSessionsByShop(s.shop)
      expect(found.map((f) => f.id)).toContain(s.id)
      if (backend.name !== 'mysql') expect(found.map((f) => f.id)).toEqual([s.id])
    }
    expect(await storage.findSessionsByShop("' OR '1'='1")).toEqual([])
    expect(await storage.findSessionsByShop('%')).toEqual([])
    // Deletes: one by hostile id, then a hostile list; the rest stays.
    expect(await storage.deleteSession(sessions[4].id)).toBe(true)
    expect(await storage.loadSession(sessions[4].id)).toBeUndefined()
    expect(await storage.deleteSessions([sessions[5].id, sessions[6].id, "' OR 1=1 --", '%'])).toBe(true)
    expect(await count(table)).toBe(sessions.length - 3)
    expect(await storage.loadSession(sessions[7].id)).toBeDefined()
  })

  test('PoolSessionStorage with NUL in session fields: round-trips, or (PostgreSQL) a coded QUERY_FAILED and no row', async () => {
    const table = await sessionTable()
    const storage = new PoolSessionStorage(pool, { tableName: table })
    const session = new Session({ id: 'nul\u0000id', shop: 'nul\u0000shop.myshopify.com', state: 's\u0000', isOnline: false, accessToken: 'tok\u0000en' })
    const r = await scan.settle(storage.storeSession(session), 'NUL session')
    if (backend.name === 'postgres') {
      expect(r.ok).toBe(false)
      expect(r.code).toBe('QUERY_FAILED')
      expect(r.error.sqlState).toBe('22021')
      expect(await count(table)).toBe(0)
    } else {
      expect(r.ok ? r.value : `${r.code}: ${r.error.message}`).toBe(true)
      const loaded = await storage.loadSession('nul\u0000id')
      expect(loaded && { id: loaded.id, shop: loaded.shop, state: loaded.state, accessToken: loaded.accessToken }).toEqual({
        id: 'nul\u0000id',
        shop: 'nul\u0000shop.myshopify.com',
        state: 's\u0000',
        accessToken: 'tok\u0000en',
      })
      expect((await storage.findSessionsByShop('nul\u0000shop.myshopify.com')).map((s) => s.id)).toEqual(['nul\u0000id'])
      // 'nul' alone (truncated at the NUL) must not match.
      expect(await storage.loadSession('nul')).toBeUndefined()
    }
  })

  test('hostile identifiers (fast-check and templates) are refused by cleanupExpiredSessions, maintenanceAction and PoolSessionStorage; nothing is sent', async () => {
    const table = await sessionTable()
    await pool.execute(
      `INSERT INTO ${quote(table)} (${['id', 'shop', 'state', 'isOnline', 'accessToken'].map(quote).join(', ')}) VALUES (?, ?, ?, ?, ?)`,
      ['keep', 'shop', 'state', false, 'token'],
    )
    const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/
    const templates = fc.constantFrom(
      `${table}; DROP TABLE ${table}`,
      `${table}"; DROP TABLE "${table}`,
      `${table}\`; DROP TABLE \`${table}`,
      `${table} --`,
      `${table}/**/`,
      `${table}\u0000`,
      `\u0000${table}`,
      `${table} WHERE 1=1`,
      `${table}'`,
      `"${table}"`,
      `\`${table}\``,
      `${table}.${table}.${table}`,
      `${table}\u200B`,
      `${table.replace('S', 'Ѕ')}`, // Cyrillic look-alike
      `${table}\n`,
      ` ${table}`,
      `(${table})`,
      `${table},${table}`,
      `${table}$(rm -rf)`,
      'x'.repeat(10000),
    )
    const names = fc.oneof(templates, fc.string({ maxLength: 30 }), fc.fullUnicodeString({ maxLength: 30 })).filter((s) => !IDENT.test(s))
    const queries = pool.metrics().queriesTotal
    const action = (name) => maintenanceAction(pool, { table: name, token: 'tok' })
    await fc.assert(
      fc.asyncProperty(names, async (name) => {
        await H.expectDbError(pool.cleanupExpiredSessions({ table: name, now: new Date(Date.UTC(2040, 0, 1)) }), 'INVALID_ARGUMENT')
        H.expectThrowsDbError(() => new PoolSessionStorage(pool, { tableName: name }), 'INVALID_ARGUMENT')
        const res = await action(name)({ request: new Request('http://x/maintenance', { method: 'POST', headers: { Authorization: 'Bearer tok' } }) })
        expect(res.status).toBeGreaterThanOrEqual(400)
        const body = await res.json()
        expect(body.code).toBe('INVALID_ARGUMENT')
      }),
      { numRuns: 200 },
    )
    // Nothing reached the database, and the table is whole.
    expect(pool.metrics().queriesTotal).toBe(queries)
    expect(await count(table)).toBe(1)
    // The real name still works.
    expect(await pool.cleanupExpiredSessions({ table })).toEqual({ deleted: 0 })
  }, 120000)
})
