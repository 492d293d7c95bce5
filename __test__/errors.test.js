'use strict'
// Every rejection is an Error with a string `code` (DESIGN.md "Errors").
const util = require('node:util')
const {
  Pool,
  backends,
  tableName,
  TYPES,
  openPool,
  tableOptions,
  dropTable,
  slowSql,
  expectDbError,
  expectThrowsDbError,
} = require('./helpers')
const { isDbError } = require('../lib/index.js')

const PASSWORD = 'SuperSecret123'

/** Every string an error exposes: message, stack, own props, cause chain. */
function everythingIn(err) {
  const parts = []
  let e = err
  for (let depth = 0; e && depth < 5; depth++) {
    parts.push(String(e.message), String(e.stack))
    for (const k of Object.getOwnPropertyNames(e)) parts.push(`${k}=${util.inspect(e[k])}`)
    e = e.cause
  }
  return parts.join('\n')
}

describe.each(backends())('errors on $name', (backend) => {
  const T = TYPES[backend.name]
  let pool
  let parent
  let child

  beforeAll(async () => {
    pool = openPool(backend, { maxConnections: 3 })
    parent = tableName('par')
    child = tableName('chi')
    const opts = tableOptions(backend.name)
    await pool.execute(`CREATE TABLE ${parent} (id ${T.int} PRIMARY KEY, email VARCHAR(100) NOT NULL, CONSTRAINT ${parent}_email_uq UNIQUE (email))${opts}`)
    await pool.execute(
      `CREATE TABLE ${child} (id ${T.int} PRIMARY KEY, parent_id ${T.int}, CONSTRAINT ${child}_parent_fk FOREIGN KEY (parent_id) REFERENCES ${parent} (id))${opts}`,
    )
    await pool.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [1, 'a@example.com'])
  })

  afterAll(async () => {
    await dropTable(pool, child)
    await dropTable(pool, parent)
    await pool.close()
  })

  describe('QUERY_FAILED', () => {
    test('a syntax error rejects with QUERY_FAILED, the database message and its sqlState', async () => {
      const err = await expectDbError(pool.query('SELEC 1'), 'QUERY_FAILED')
      expect(err.message).toMatch(/SELEC|syntax/i)
      expect(typeof err.sqlState).toBe('string')
      const expected = { sqlite: '1', postgres: '42601', mysql: '42000' }[backend.name]
      expect(err.sqlState).toBe(expected)
    })

    test('a unique violation carries sqlState (and the constraint where the database names it)', async () => {
      const err = await expectDbError(
        pool.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [2, 'a@example.com']),
        'QUERY_FAILED',
      )
      if (backend.name === 'postgres') {
        expect(err.sqlState).toBe('23505')
        expect(err.constraint).toBe(`${parent}_email_uq`)
      } else if (backend.name === 'mysql') {
        expect(err.sqlState).toBe('23000')
        expect(err.message).toMatch(/Duplicate entry/)
      } else {
        // SQLITE_CONSTRAINT_UNIQUE (2067), or the primary code 19.
        expect(['2067', '19']).toContain(err.sqlState)
        expect(err.message).toMatch(/UNIQUE constraint failed/)
      }
    })

    test('a primary-key violation is QUERY_FAILED with the backend’s code', async () => {
      const err = await expectDbError(
        pool.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [1, 'other@example.com']),
        'QUERY_FAILED',
      )
      const expected = { sqlite: ['1555', '19'], postgres: ['23505'], mysql: ['23000'] }[backend.name]
      expect(expected).toContain(err.sqlState)
    })

    test('a NOT NULL violation is QUERY_FAILED with the backend’s code', async () => {
      const err = await expectDbError(
        pool.execute(`INSERT INTO ${parent} (id, email) VALUES (?, ?)`, [3, null]),
        'QUERY_FAILED',
      )
      const expected = { sqlite: ['1299', '19'], postgres: ['23502'], mysql: ['23000'] }[backend.name]
      expect(expected).toContain(err.sqlState)
    })

    test('a foreign-key violation is QUERY_FAILED (SQLite enforces foreign keys too)', async () => {
      const err = await expectDbError(
        pool.execute(`INSERT INTO ${child} (id, parent_id) VALUES (?, ?)`, [1, 999]),
        'QUERY_FAILED',
      )
      const expected = { sqlite: ['787', '19'], postgres: ['23503'], mysql: ['23000'] }[backend.name]
      expect(expected).toContain(err.sqlState)
      if (backend.name === 'postgres') expect(err.constraint).toBe(`${child}_parent_fk`)
      expect(await pool.query(`SELECT id FROM ${child}`)).toEqual([])
    })

    test('a missing table is QUERY_FAILED naming it', async () => {
      const err = await expectDbError(pool.query('SELECT * FROM no_such_table_here'), 'QUERY_FAILED')
      expect(err.message).toMatch(/no_such_table_here/)
    })

    test('errors inside a transaction are QUERY_FAILED too, and the tx can still roll back', async () => {
      const tx = await pool.begin()
      await expectDbError(tx.query('SELEC 1'), 'QUERY_FAILED')
      await tx.rollback()
      expect(pool.status().inUse).toBe(0)
    })
  })

  describe('TIMEOUT', () => {
    test('a statement running past statementTimeoutMs rejects with TIMEOUT; the pool still serves', async () => {
      const p = openPool(backend, { statementTimeoutMs: 150, maxConnections: 2 })
      try {
        await p.query('SELECT 1 AS warm')
        await expectDbError(p.query(slowSql(backend.name, 3)), 'TIMEOUT')
        expect(p.status().inUse).toBe(0)
        expect(await p.queryOne('SELECT 2 AS ok')).toEqual({ ok: 2 })
      } finally {
        await p.close()
      }
    })
  })

  describe('POOL_TIMEOUT', () => {
    test('every connection held: rejects with POOL_TIMEOUT whose message carries size/idle/waiting/max; serves again after rollback', async () => {
      const p = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 200 })
      try {
        const tx = await p.begin()
        const err = await expectDbError(p.query('SELECT 1 AS x'), 'POOL_TIMEOUT')
        expect(err.message).toMatch(/size\D{0,3}1\b/)
        expect(err.message).toMatch(/idle\D{0,3}0\b/)
        expect(err.message).toMatch(/waiting\D{0,3}\d+/)
        expect(err.message).toMatch(/max\D{0,3}1\b/)
        await tx.rollback()
        expect(await p.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
        expect(p.status().inUse).toBe(0)
      } finally {
        await p.close()
      }
    })
  })

  describe('POOL_CLOSED', () => {
    test('every method rejects with POOL_CLOSED after close()', async () => {
      const p = openPool(backend)
      await p.query('SELECT 1 AS x')
      await p.close()
      await expectDbError(p.query('SELECT 1 AS x'), 'POOL_CLOSED')
      await expectDbError(p.queryOne('SELECT 1 AS x'), 'POOL_CLOSED')
      await expectDbError(p.execute('SELECT 1 AS x'), 'POOL_CLOSED')
      await expectDbError(p.batch([{ sql: 'SELECT 1 AS x' }]), 'POOL_CLOSED')
      await expectDbError(p.begin(), 'POOL_CLOSED')
      await expectDbError(p.connect(), 'POOL_CLOSED')
      await expectDbError(p.transaction(async () => 1), 'POOL_CLOSED')
    })
  })

  describe('TRANSACTION_CLOSED', () => {
    test.each(['commit', 'rollback'])('every tx method rejects with TRANSACTION_CLOSED after %s', async (finish) => {
      const tx = await pool.begin()
      await tx.query('SELECT 1 AS x')
      await tx[finish]()
      expect(tx.finished).toBe(true)
      await expectDbError(tx.query('SELECT 1 AS x'), 'TRANSACTION_CLOSED')
      await expectDbError(tx.queryOne('SELECT 1 AS x'), 'TRANSACTION_CLOSED')
      await expectDbError(tx.execute('SELECT 1 AS x'), 'TRANSACTION_CLOSED')
      await expectDbError(tx.commit(), 'TRANSACTION_CLOSED')
      await expectDbError(tx.rollback(), 'TRANSACTION_CLOSED')
      expect(pool.status().inUse).toBe(0)
    })
  })

  describe('INVALID_ARGUMENT', () => {
    test('a bad parameter or non-string SQL rejects with INVALID_ARGUMENT', async () => {
      const err = await expectDbError(pool.query('SELECT ? AS x', [Symbol('nope')]), 'INVALID_ARGUMENT')
      expect(err.message).toMatch(/parameter 0/)
      await expectDbError(pool.query(42), 'INVALID_ARGUMENT')
      await expectDbError(pool.transaction('not a function'), 'INVALID_ARGUMENT')
    })
  })

  test('isDbError recognises the addon’s errors by code (also in this Jest realm)', async () => {
    let err
    try {
      await pool.query('SELEC 1')
    } catch (e) {
      err = e
    }
    expect(err.code).toBe('QUERY_FAILED')
    expect(isDbError(err)).toBe(true)
    expect(isDbError(err, 'QUERY_FAILED')).toBe(true)
    expect(isDbError(err, 'POOL_TIMEOUT')).toBe(false)
    expect(isDbError(new Error('plain'))).toBe(false)
  })
})

describe('INVALID_URL: the constructor throws synchronously', () => {
  test.each([
    ['unknown scheme', 'foo://user@host/db'],
    ['http scheme', 'http://example.com/db'],
    ['unparsable URL (bad port)', 'postgres://postgres@127.0.0.1:notaport/test'],
    ['unparsable URL (broken IPv6 host)', 'postgres://postgres@[::1/test'],
    ['no host', 'postgres://'],
    ['empty string', ''],
    ['SQLite URL naming no file', 'file:'],
  ])('%s', (_, url) => {
    expectThrowsDbError(() => new Pool({ url }), 'INVALID_URL')
  })
})

describe('CONNECTION_FAILED', () => {
  const servers = backends().filter((b) => b.name !== 'sqlite')
  const refused = { postgres: 'postgres://postgres@127.0.0.1:1/test', mysql: 'mysql://root@127.0.0.1:1/test' }
  const opts = { acquireTimeoutMs: 800, connectTimeoutMs: 500, maxConnections: 2 }

  if (servers.length === 0) {
    test.skip('needs TEST_POSTGRES_URL or TEST_MYSQL_URL', () => {})
  }

  ;(servers.length ? describe.each(servers) : () => () => {})('on $name', (backend) => {
    test('query and connect reject with CONNECTION_FAILED when nothing listens on the port', async () => {
      const p = new Pool({ url: refused[backend.name], ...opts })
      try {
        await expectDbError(p.query('SELECT 1 AS x'), 'CONNECTION_FAILED')
        await expectDbError(p.connect(), 'CONNECTION_FAILED')
        expect(p.status().inUse).toBe(0)
        expect(p.status().waiting).toBe(0)
      } finally {
        await p.close()
      }
    })

    test('the CONNECTION_FAILED error keeps the driver’s reason (message or cause)', async () => {
      const p = new Pool({ url: refused[backend.name], ...opts })
      try {
        const err = await expectDbError(p.query('SELECT 1 AS x'), 'CONNECTION_FAILED')
        const text = `${err.message} ${err.cause ? err.cause.message : ''}`
        expect(text).toMatch(/refused|ECONNREFUSED|os error 111/i)
      } finally {
        await p.close()
      }
    })
  })

  if (process.env.TEST_POSTGRES_URL) {
    test('postgres: a database that does not exist is CONNECTION_FAILED', async () => {
      const url = new URL(process.env.TEST_POSTGRES_URL)
      url.pathname = '/no_such_database_sdp'
      const p = new Pool({ url: url.toString(), ...opts })
      try {
        const err = await expectDbError(p.connect(), 'CONNECTION_FAILED')
        expect(err.message).toMatch(/no_such_database_sdp/)
      } finally {
        await p.close()
      }
    })
  }
})

describe('no error ever contains the password of the URL', () => {
  const bad = [
    ['unknown scheme', `foo://postgres:${PASSWORD}@127.0.0.1/test`],
    ['bad port', `postgres://postgres:${PASSWORD}@127.0.0.1:notaport/test`],
    ['broken host', `mysql://root:${PASSWORD}@[::1/test`],
    ['bad Prisma parameter', `postgres://postgres:${PASSWORD}@127.0.0.1:5432/test?connection_limit=abc`],
    ['bad sslmode', `postgres://postgres:${PASSWORD}@127.0.0.1:5432/test?sslmode=bogus`],
  ]
  test.each(bad)('constructor error: %s', (_, url) => {
    let err
    try {
      new Pool({ url })
    } catch (e) {
      err = e
    }
    expect(err).toBeDefined()
    expect(everythingIn(err)).not.toContain(PASSWORD)
  })

  const failing = [
    ['postgres', `postgres://postgres:${PASSWORD}@127.0.0.1:1/test`, 'TEST_POSTGRES_URL'],
    ['mysql', `mysql://root:${PASSWORD}@127.0.0.1:1/test`, 'TEST_MYSQL_URL'],
  ].filter(([, , env]) => process.env[env])
  ;(failing.length ? test.each(failing) : () => () => {})('connection failure on %s', async (_, url) => {
    const p = new Pool({ url, acquireTimeoutMs: 500, connectTimeoutMs: 300 })
    try {
      const err = await expectDbError(p.query('SELECT 1 AS x'), 'CONNECTION_FAILED')
      expect(everythingIn(err)).not.toContain(PASSWORD)
      const err2 = await expectDbError(p.connect(), 'CONNECTION_FAILED')
      expect(everythingIn(err2)).not.toContain(PASSWORD)
    } finally {
      await p.close()
    }
  })

  if (process.env.TEST_POSTGRES_URL) {
    test('wrong database on a reachable postgres server', async () => {
      const url = new URL(process.env.TEST_POSTGRES_URL)
      url.password = PASSWORD
      url.pathname = '/no_such_database_sdp'
      const p = new Pool({ url: url.toString(), acquireTimeoutMs: 2000, connectTimeoutMs: 1000 })
      try {
        const err = await expectDbError(p.connect(), 'CONNECTION_FAILED')
        expect(everythingIn(err)).not.toContain(PASSWORD)
      } finally {
        await p.close()
      }
    })
  }
})
