'use strict'
// Through a real PgBouncer in transaction pooling mode (issue 7): the pool
// with `pgbouncer=true` must leave no named prepared statements on server
// connections and assume no session state across transactions.
//
// Needs TEST_PGBOUNCER_URL, e.g. postgres://postgres@127.0.0.1:6432/test?pgbouncer=true
// (.ci/run starts Debian's pgbouncer there: pool_mode = transaction,
// default_pool_size = 5, ignore_startup_parameters = extra_float_digits,options).
// Skipped when it is unset.
const { spawnSync } = require('node:child_process')
const { Session } = require('@shopify/shopify-api')
const {
  Pool,
  tableName,
  TYPES,
  dropTable,
  isDate,
  mainRealm,
  expectDbError,
  expectThrowsDbError,
} = require('./helpers')
const { PoolSessionStorage } = require('../lib/index.js')
const { sessionTableSql } = require('./session-table.js')

const URL_PGB = process.env.TEST_PGBOUNCER_URL
const T = TYPES.postgres
const BIG_DECIMAL = '12345678901234567890.1234567890'

/** The same PgBouncer URL with `pgbouncer` set to `on` (or removed). */
function bouncerUrl({ pgbouncer = true, path } = {}) {
  const u = new URL(URL_PGB)
  u.searchParams.delete('pgbouncer')
  if (pgbouncer) u.searchParams.set('pgbouncer', 'true')
  if (path) u.pathname = path
  return u.toString()
}

/**
 * A command on PgBouncer's admin console (simple protocol only, so through
 * psql); best effort: returns its output, or null.
 */
function bouncerAdmin(command) {
  const u = new URL(URL_PGB)
  u.search = ''
  u.pathname = '/pgbouncer'
  const r = spawnSync('psql', ['-X', '-Atq', u.toString(), '-c', command], { encoding: 'utf8', timeout: 10000 })
  return r.status === 0 ? r.stdout : null
}

const describeIf = URL_PGB ? describe : describe.skip

if (!URL_PGB) {
  test.skip('PgBouncer tests need TEST_PGBOUNCER_URL (.ci/run sets it)', () => {})
}

describeIf('through PgBouncer (transaction pooling) with pgbouncer=true', () => {
  let pool
  let table
  let seq = 0

  beforeAll(async () => {
    pool = new Pool({ url: bouncerUrl(), maxConnections: 5 })
    table = tableName('pgb_vals')
    await pool.execute(
      `CREATE TABLE ${table} (k VARCHAR(64) NOT NULL, txt ${T.text}, i ${T.int}, big ${T.bigint}, f ${T.float}, ` +
        `b ${T.bool}, ts ${T.ts}, bl ${T.blob}, js ${T.json}, dc ${T.decimal}, u UUID)`,
    )
  })

  afterAll(async () => {
    await dropTable(pool, table)
    await pool.close()
  })

  test('the options say PgBouncer mode: statement cache off', () => {
    expect(pool.backend).toBe('postgres')
    expect(pool.options.pgbouncer).toBe(true)
    expect(pool.options.statementCache).toBe(false)
    // The option works as the URL flag does.
    const p = new Pool({ url: bouncerUrl({ pgbouncer: false }), pgbouncer: true })
    expect(p.options.pgbouncer).toBe(true)
    expect(p.options.statementCache).toBe(false)
    return p.close()
  })

  describe('values round trip', () => {
    /** Inserts `value` into `column` of a fresh row and reads it back. */
    async function roundTrip(column, value, placeholder = '?') {
      seq += 1
      const key = `k${seq}`
      const res = await pool.execute(`INSERT INTO ${table} (k, ${column}) VALUES (?, ${placeholder})`, [key, value])
      expect(res).toEqual({ rowsAffected: 1, lastInsertId: null })
      const row = await pool.queryOne(`SELECT ${column} AS v FROM ${table} WHERE k = ?`, [key])
      expect(row).not.toBeNull()
      return row.v
    }

    test('null and undefined store NULL in every column type', async () => {
      for (const column of ['txt', 'i', 'big', 'f', 'b', 'ts', 'bl', 'js', 'dc', 'u']) {
        expect(await roundTrip(column, null)).toBeNull()
        expect(await roundTrip(column, undefined)).toBeNull()
      }
    })

    test('booleans', async () => {
      expect(await roundTrip('b', true)).toBe(true)
      expect(await roundTrip('b', false)).toBe(false)
    })

    test('integers, safe bigints as numbers, large bigints exactly', async () => {
      for (const n of [0, 1, -1, 2147483647, -2147483648]) expect(await roundTrip('i', n)).toBe(n)
      expect(await roundTrip('big', Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER)
      expect(await roundTrip('big', 42n)).toBe(42)
      for (const n of [2n ** 53n + 1n, 9223372036854775807n, -9223372036854775808n]) {
        const v = await roundTrip('big', n)
        expect(typeof v).toBe('bigint')
        expect(v).toBe(n)
      }
    })

    test('doubles', async () => {
      for (const n of [3.14159, -0.5, 1e-10, 1.7976931348623157e308]) expect(await roundTrip('f', n)).toBe(n)
    })

    test('strings: unicode, emoji, quotes, placeholders-looking text, long', async () => {
      for (const s of ['', 'héllo wörld', '日本語', '😀🎉👩‍👩‍👧', `it's "q"`, 'a ? b ?? c $1', 'x'.repeat(10000)]) {
        expect(await roundTrip('txt', s)).toBe(s)
      }
    })

    test('Date → TIMESTAMP(3) → Date, same milliseconds', async () => {
      for (const iso of ['2024-02-29T12:34:56.789Z', '1960-05-01T10:00:00.250Z', '2100-01-01T00:00:00.000Z']) {
        const v = await roundTrip('ts', new Date(iso))
        expect({ isDate: isDate(v), ms: isDate(v) ? v.getTime() : v }).toEqual({ isDate: true, ms: Date.parse(iso) })
      }
    })

    test('Buffer and Uint8Array → BYTEA → Buffer', async () => {
      const buf = Buffer.from([0, 1, 127, 128, 255, 0])
      const v1 = await roundTrip('bl', buf)
      expect(Buffer.isBuffer(v1) && v1.equals(buf)).toBe(true)
      const v2 = await roundTrip('bl', new Uint8Array([9, 8, 0, 255]))
      expect([...v2]).toEqual([9, 8, 0, 255])
    })

    test('objects and arrays → JSONB → parsed values', async () => {
      for (const sample of [{ a: 1, b: [1, { c: 'x' }], s: 'é😀', n: null }, [1, 'two', null, false], {}]) {
        expect(await roundTrip('js', mainRealm(sample))).toEqual(sample)
      }
      expect(await roundTrip('js', { shop: 'x.myshopify.com', scopes: ['read'] })).toEqual({ shop: 'x.myshopify.com', scopes: ['read'] })
    })

    test('NUMERIC comes back as a lossless string', async () => {
      const row = await pool.queryOne(`SELECT CAST('${BIG_DECIMAL}' AS ${T.decimal}) AS big, CAST('12.5' AS ${T.decimal}) AS small`)
      expect(row).toEqual({ big: BIG_DECIMAL, small: '12.5000000000' })
      expect(await roundTrip('dc', 12.5)).toBe('12.5000000000')
    })

    test('UUID comes back as a string', async () => {
      const id = '6f1c1f3e-8a8e-4d7b-9b2a-2f5d1c3e4a5b'
      expect(await roundTrip('u', id, 'CAST(? AS UUID)')).toBe(id)
    })

    test('the documented cost: parameters are typed from JS, so a string into NUMERIC/UUID needs a cast', async () => {
      // With the statement cache on, the server's inferred types would take
      // the string; here it is sent as text.
      const err = await expectDbError(pool.execute(`INSERT INTO ${table} (k, dc) VALUES (?, ?)`, ['typed', BIG_DECIMAL]), 'QUERY_FAILED')
      expect(err.sqlState).toBe('42804')
      expect(await roundTrip('dc', BIG_DECIMAL, `CAST(? AS ${T.decimal})`)).toBe(BIG_DECIMAL)
    })

    test('several rows, several columns, in one statement', async () => {
      const rows = await pool.query('SELECT g AS n, g * 1.5 AS f, g % 2 = 0 AS even, ? AS tag FROM generate_series(1, 3) g', ['t'])
      expect(rows).toEqual([
        { n: 1, f: '1.5', even: false, tag: 't' },
        { n: 2, f: '3.0', even: true, tag: 't' },
        { n: 3, f: '4.5', even: false, tag: 't' },
      ])
    })

    test('bad parameters are INVALID_ARGUMENT naming the index, before reaching the server', async () => {
      const err = await expectDbError(pool.query('SELECT ? AS x', [Symbol('nope')]), 'INVALID_ARGUMENT')
      expect(err.message).toMatch(/parameter 0/)
      await expectDbError(pool.query('SELECT ? AS x, ? AS y', [1, NaN]), 'INVALID_ARGUMENT')
      await expectDbError(pool.query('SELECT ? AS x', [2n ** 64n]), 'INVALID_ARGUMENT')
      await expectDbError(pool.query(42), 'INVALID_ARGUMENT')
    })
  })

  describe('error codes', () => {
    let parent
    let child

    beforeAll(async () => {
      parent = tableName('pgb_par')
      child = tableName('pgb_chi')
      await pool.execute(`CREATE TABLE ${parent} (id ${T.int} PRIMARY KEY, email VARCHAR(100) NOT NULL, CONSTRAINT ${parent}_email_uq UNIQUE (email))`)
      await pool.execute(
        `CREATE TABLE ${child} (id ${T.int} PRIMARY KEY, parent_id ${T.int}, CONSTRAINT ${child}_parent_fk FOREIGN KEY (parent_id) REFERENCES ${parent} (id))`,
      )
      await pool.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [1, 'a@example.com'])
    })

    afterAll(async () => {
      await dropTable(pool, child)
      await dropTable(pool, parent)
    })

    test('QUERY_FAILED: syntax error, unique / not-null / foreign-key violations, missing table, with sqlState and constraint', async () => {
      expect((await expectDbError(pool.query('SELEC 1'), 'QUERY_FAILED')).sqlState).toBe('42601')
      const uq = await expectDbError(pool.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [2, 'a@example.com']), 'QUERY_FAILED')
      expect([uq.sqlState, uq.constraint]).toEqual(['23505', `${parent}_email_uq`])
      const nn = await expectDbError(pool.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [3, null]), 'QUERY_FAILED')
      expect(nn.sqlState).toBe('23502')
      const fk = await expectDbError(pool.execute(`INSERT INTO ${child} (id, parent_id) VALUES (?, ?)`, [1, 999]), 'QUERY_FAILED')
      expect([fk.sqlState, fk.constraint]).toEqual(['23503', `${child}_parent_fk`])
      const missing = await expectDbError(pool.query('SELECT * FROM no_such_table_pgb'), 'QUERY_FAILED')
      expect(missing.message).toMatch(/no_such_table_pgb/)
      // The pool (and PgBouncer's server connections) serve on.
      expect(await pool.queryOne('SELECT 1 AS ok')).toEqual({ ok: 1 })
    })

    test('QUERY_FAILED inside a transaction; the transaction still rolls back', async () => {
      const tx = await pool.begin()
      await tx.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [10, 'tx@example.com'])
      await expectDbError(tx.query('SELEC 1'), 'QUERY_FAILED')
      await tx.rollback()
      expect(await pool.query(`SELECT id FROM ${parent} WHERE id = ?`, [10])).toEqual([])
      expect(pool.status().inUse).toBe(0)
    })

    test('TIMEOUT: a statement past statementTimeoutMs rejects with TIMEOUT; the pool still serves', async () => {
      // PgBouncer drops the `options` startup parameter that carries
      // statement_timeout, so here the client-side backstop
      // (statementTimeoutMs + 2 s) is what ends the statement.
      const p = new Pool({ url: bouncerUrl(), statementTimeoutMs: 150, maxConnections: 2 })
      try {
        await p.query('SELECT 1 AS warm')
        await expectDbError(p.query('SELECT 1 AS s FROM pg_sleep(4)'), 'TIMEOUT')
        expect(p.status().inUse).toBe(0)
        expect(await p.queryOne('SELECT 2 AS ok')).toEqual({ ok: 2 })
      } finally {
        await p.close()
      }
    })

    test('TIMEOUT: statementTimeoutMs is enforced by the server through PgBouncer too (a 1.5 s statement with a 300 ms limit fails)', async () => {
      // Directly, PostgreSQL cancels it at 300 ms and the connection stays
      // usable. Through PgBouncer the startup `options` are ignored
      // (ignore_startup_parameters), so nothing sets statement_timeout.
      const p = new Pool({ url: bouncerUrl(), statementTimeoutMs: 300, maxConnections: 1 })
      try {
        await expectDbError(p.query('SELECT 1 AS s FROM pg_sleep(1.5)'), 'TIMEOUT')
      } finally {
        await p.close()
      }
    })

    test('POOL_TIMEOUT: every connection held, with size/idle/waiting/max in the message', async () => {
      const p = new Pool({ url: bouncerUrl(), maxConnections: 1, acquireTimeoutMs: 200 })
      try {
        const tx = await p.begin()
        const err = await expectDbError(p.query('SELECT 1 AS x'), 'POOL_TIMEOUT')
        expect(err.message).toMatch(/max\D{0,3}1\b/)
        await tx.rollback()
        expect(await p.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
      } finally {
        await p.close()
      }
    })

    test('POOL_CLOSED after close()', async () => {
      const p = new Pool({ url: bouncerUrl() })
      await p.query('SELECT 1 AS x')
      await p.close()
      await expectDbError(p.query('SELECT 1 AS x'), 'POOL_CLOSED')
      await expectDbError(p.execute('SELECT 1'), 'POOL_CLOSED')
      await expectDbError(p.batch([{ sql: 'SELECT 1' }]), 'POOL_CLOSED')
      await expectDbError(p.begin(), 'POOL_CLOSED')
    })

    test('TRANSACTION_CLOSED after commit', async () => {
      const tx = await pool.begin()
      await tx.query('SELECT 1 AS x')
      await tx.commit()
      await expectDbError(tx.query('SELECT 1 AS x'), 'TRANSACTION_CLOSED')
      await expectDbError(tx.execute('SELECT 1'), 'TRANSACTION_CLOSED')
      await expectDbError(tx.rollback(), 'TRANSACTION_CLOSED')
    })

    test('CONNECTION_FAILED: a database PgBouncer does not serve', async () => {
      const p = new Pool({ url: bouncerUrl({ path: '/no_such_db_pgb' }), acquireTimeoutMs: 2000, connectTimeoutMs: 1000 })
      try {
        const err = await expectDbError(p.connect(), 'CONNECTION_FAILED')
        expect(err.message).toMatch(/no_such_db_pgb|no such database/i)
      } finally {
        await p.close()
      }
    })

    test('INVALID_URL: a bad Prisma parameter next to pgbouncer=true throws at construction', () => {
      expectThrowsDbError(() => new Pool({ url: `${bouncerUrl()}&connection_limit=abc` }), 'INVALID_URL')
    })
  })

  describe('transactions and batch', () => {
    let t

    beforeAll(async () => {
      t = tableName('pgb_tx')
      await pool.execute(`CREATE TABLE ${t} (id ${T.id}, tag TEXT NOT NULL UNIQUE, n ${T.int})`)
    })

    afterAll(() => dropTable(pool, t))

    test('commit keeps, rollback drops, reads inside see their own writes', async () => {
      const tx = await pool.begin()
      await tx.execute(`INSERT INTO ${t} (tag, n) VALUES (?, ?)`, ['kept', 1])
      expect(await tx.queryOne(`SELECT n FROM ${t} WHERE tag = ?`, ['kept'])).toEqual({ n: 1 })
      await tx.commit()
      const tx2 = await pool.begin()
      await tx2.execute(`INSERT INTO ${t} (tag, n) VALUES (?, ?)`, ['dropped', 2])
      await tx2.rollback()
      expect(await pool.query(`SELECT tag FROM ${t} ORDER BY tag`)).toEqual([{ tag: 'kept' }])
    })

    test('transaction(fn): commits on resolve, rolls back and rethrows on throw', async () => {
      const v = await pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${t} (tag, n) VALUES (?, ?)`, ['fn-ok', 3])
        return (await tx.queryOne(`SELECT count(*)::int AS c FROM ${t}`)).c
      })
      expect(v).toBe(2)
      await expect(
        pool.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${t} (tag, n) VALUES (?, ?)`, ['fn-bad', 4])
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      expect(await pool.queryOne(`SELECT count(*)::int AS c FROM ${t} WHERE tag = ?`, ['fn-bad'])).toEqual({ c: 0 })
    })

    test('batch is atomic: all applied, or none when one statement fails', async () => {
      const ok = await pool.batch([
        { sql: `INSERT INTO ${t} (tag, n) VALUES (?, ?)`, params: ['b1', 5] },
        { sql: `UPDATE ${t} SET n = n + ? WHERE tag = ?`, params: [10, 'b1'] },
      ])
      expect(ok.map((r) => r.rowsAffected)).toEqual([1, 1])
      await expectDbError(
        pool.batch([
          { sql: `INSERT INTO ${t} (tag, n) VALUES (?, ?)`, params: ['b2', 6] },
          { sql: `INSERT INTO ${t} (tag, n) VALUES (?, ?)`, params: ['b1', 7] },
        ]),
        'QUERY_FAILED',
      )
      expect(await pool.query(`SELECT tag, n FROM ${t} WHERE tag LIKE 'b%' ORDER BY tag`)).toEqual([{ tag: 'b1', n: 15 }])
    })
  })

  test('PoolSessionStorage stores, loads, finds and deletes sessions through PgBouncer', async () => {
    const st = tableName('PgbSession')
    await pool.execute(sessionTableSql('postgres', st))
    try {
      const storage = new PoolSessionStorage(pool, { tableName: st, connectionRetries: 0 })
      expect(await storage.isReady()).toBe(true)
      const expires = new Date(Date.now() + 3600e3)
      const session = new Session({ id: 'offline_pgb.myshopify.com', shop: 'pgb.myshopify.com', state: 's', isOnline: false, scope: 'read_products', accessToken: 'tok', expires })
      expect(await storage.storeSession(session)).toBe(true)
      const loaded = await storage.loadSession(session.id)
      expect(loaded && loaded.toObject()).toEqual(session.toObject())
      expect((await storage.findSessionsByShop('pgb.myshopify.com')).map((s) => s.id)).toEqual([session.id])
      expect(await storage.deleteSession(session.id)).toBe(true)
      expect(await storage.loadSession(session.id)).toBeUndefined()
    } finally {
      await dropTable(pool, st)
    }
  })
})

/**
 * 64 callers at once through a pool of 20, PgBouncer's default_pool_size
 * being 5: each caller runs different parameterized statements (several
 * shapes, parameter counts and types), writes, and transactions, checking
 * every result. Resolves with the errors seen and the wrong results.
 */
async function concurrentWorkload(url, { callers = 64, rounds = 12 } = {}) {
  const p = new Pool({ url, maxConnections: 20, acquireTimeoutMs: 30000 })
  const table = tableName('pgb_load')
  const errors = []
  const wrong = []
  const check = (what, got, want) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
  }
  const setup = new Pool({ url: bouncerUrl(), maxConnections: 1 })
  try {
    await setup.execute(`CREATE TABLE ${table} (caller INTEGER NOT NULL, seq INTEGER NOT NULL, val TEXT NOT NULL, PRIMARY KEY (caller, seq))`)
    const caller = async (c) => {
      let inserted = 0
      for (let i = 0; i < rounds; i++) {
        try {
          const k = c * 1000 + i
          check('bigint', await p.queryOne('SELECT ?::bigint * 2 AS v', [k]), { v: k * 2 })
          // The same parameter types as the one above: bound to the wrong
          // statement, this one would not fail but answer wrongly.
          check('bigint + 1', await p.queryOne('SELECT ?::bigint + 1 AS w', [k]), { w: k + 1 })
          check('text', await p.queryOne("SELECT ? || ':' || ? AS s, ?::int + ?::int AS n", [`c${c}`, `i${i}`, c, i]), { s: `c${c}:i${i}`, n: c + i })
          check('series', await p.query('SELECT g FROM generate_series(?::int, ?::int) g', [i, i + (c % 4)]), Array.from({ length: (c % 4) + 1 }, (_, j) => ({ g: i + j })))
          check('no params', await p.queryOne('SELECT 7 AS seven'), { seven: 7 })
          check('bool/float', await p.queryOne('SELECT ?::boolean AS b, ?::float8 / 2 AS f', [i % 2 === 0, c + 0.5]), { b: i % 2 === 0, f: (c + 0.5) / 2 })
          const ins = await p.execute(`INSERT INTO ${table} (caller, seq, val) VALUES (?, ?, ?)`, [c, i, `v${k}`])
          check('insert', ins.rowsAffected, 1)
          inserted += 1
          check('own rows', await p.queryOne(`SELECT count(*)::int AS n, max(val) AS last FROM ${table} WHERE caller = ? AND seq = ?`, [c, i]), { n: 1, last: `v${k}` })
          if (i % 4 === 0) {
            const sum = await p.transaction(async (tx) => {
              await tx.execute(`UPDATE ${table} SET val = ? WHERE caller = ? AND seq = ?`, [`t${k}`, c, i])
              const row = await tx.queryOne(`SELECT val, ?::int AS echo FROM ${table} WHERE caller = ? AND seq = ?`, [i, c, i])
              check('tx read', row, { val: `t${k}`, echo: i })
              return (await tx.queryOne(`SELECT count(*)::int AS n FROM ${table} WHERE caller = ?`, [c])).n
            })
            check('tx count', sum, inserted)
          }
          if (i % 4 === 2) {
            const tx = await p.begin()
            await tx.execute(`DELETE FROM ${table} WHERE caller = ?`, [c])
            check('rolled back delete (inside)', await tx.queryOne(`SELECT count(*)::int AS n FROM ${table} WHERE caller = ?`, [c]), { n: 0 })
            await tx.rollback()
            check('rolled back delete (after)', await p.queryOne(`SELECT count(*)::int AS n FROM ${table} WHERE caller = ?`, [c]), { n: inserted })
            const res = await p.batch([
              { sql: `UPDATE ${table} SET val = ? WHERE caller = ? AND seq = ?`, params: [`b${k}`, c, i] },
              { sql: `SELECT 1` },
            ])
            check('batch', res.map((r) => r.rowsAffected), [1, 1])
          }
        } catch (e) {
          errors.push(`${e.code}: ${e.message}`)
        }
      }
    }
    await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)))
    return { errors, wrong }
  } finally {
    await p.close()
    await dropTable(setup, table)
    await setup.close()
  }
}

/** Counts messages by their text with numbers and names blurred. */
function tally(messages) {
  const out = {}
  for (const m of messages) {
    const key = m.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N')
    out[key] = (out[key] || 0) + 1
  }
  return out
}

describeIf('64 concurrent callers through a pool of 20, PgBouncer default_pool_size 5', () => {
  afterAll(() => {
    // The contrast below leaves named statements on PgBouncer's server
    // connections: have PgBouncer replace them once released.
    bouncerAdmin('RECONNECT')
  })

  test('with pgbouncer=true: every result right, no error at all (none about prepared statements)', async () => {
    const { errors, wrong } = await concurrentWorkload(bouncerUrl())
    const prepared = errors.filter((m) => /prepared statement/i.test(m))
    expect({ preparedStatementErrors: tally(prepared), otherErrors: tally(errors.filter((m) => !prepared.includes(m))), wrong: wrong.slice(0, 5), wrongCount: wrong.length }).toEqual({
      preparedStatementErrors: {},
      otherErrors: {},
      wrong: [],
      wrongCount: 0,
    })
  })

  test('with pgbouncer=true no named prepared statement is left on PgBouncer’s server connections', async () => {
    bouncerAdmin('RECONNECT')
    const p = new Pool({ url: bouncerUrl(), maxConnections: 10 })
    const named = new Set()
    try {
      for (let round = 0; round < 5; round++) {
        // Ten at once, so that several server connections answer.
        const lists = await Promise.all(
          Array.from({ length: 10 }, () =>
            p.transaction(async (tx) => {
              await tx.query('SELECT pg_sleep(0.01)')
              return tx.query('SELECT name FROM pg_prepared_statements')
            }),
          ),
        )
        for (const list of lists) for (const { name } of list) named.add(name)
      }
    } finally {
      await p.close()
    }
    expect([...named]).toEqual([])
  })

  test('contrast: the same workload WITHOUT pgbouncer=true (statement cache on) breaks through PgBouncer', async () => {
    // Named statements (sqlx_s_N) live on one server connection while
    // PgBouncer hands each transaction to whichever is free.
    const { errors, wrong } = await concurrentWorkload(bouncerUrl({ pgbouncer: false }))
    const prepared = errors.filter((m) => /prepared statement .*(already exists|does not exist)|bind message supplies/i.test(m))
    expect(prepared.length + wrong.length).toBeGreaterThan(0)
  })
})
