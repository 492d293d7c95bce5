'use strict'
// Bad input from the caller: each is refused with INVALID_ARGUMENT /
// INVALID_URL, names what was wrong, and leaves the pool fully usable.
const { Pool, backends, sqliteUrl, tableName, TYPES, openPool, tableOptions, dropTable, expectDbError, expectThrowsDbError } = require('./helpers')

class Foo {}

// [label, value]: every one is a parameter no database can take.
const BAD_PARAMS = [
  ['a symbol', Symbol('s')],
  ['a function', () => 1],
  ['a class instance', new Foo()],
  ['a Map', new Map([['a', 1]])],
  ['a Set', new Set([1])],
  ['a RegExp', /x/],
  ['a Promise', Promise.resolve(1)],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['bigint 2n**70n', 2n ** 70n],
  ['bigint -(2n**70n)', -(2n ** 70n)],
  ['an invalid Date', new Date('not a date')],
  ['an object holding a bigint (no JSON form)', { n: 1n }],
]

describe.each(backends())('bad input on $name', (backend) => {
  const T = TYPES[backend.name]
  let pool
  let table
  let id = 0
  const nextId = () => ++id

  beforeAll(async () => {
    pool = openPool(backend, { maxConnections: 3 })
    table = tableName('bad')
    await pool.execute(`CREATE TABLE ${table} (id ${T.int} PRIMARY KEY, v ${T.text})${tableOptions(backend.name)}`)
  })

  afterAll(async () => {
    await dropTable(pool, table)
    await pool.close()
  })

  /** The pool still answers and holds no connection. */
  async function stillServes() {
    expect(pool.status().inUse).toBe(0)
    expect(await pool.queryOne('SELECT 1 AS ok')).toEqual({ ok: 1 })
    expect(pool.status().inUse).toBe(0)
  }

  describe.each(BAD_PARAMS)('param that is %s', (_, bad) => {
    test('query / queryOne / execute reject with INVALID_ARGUMENT naming the parameter index', async () => {
      const sql = 'SELECT ? AS a, ? AS b, ? AS c'
      for (const method of ['query', 'queryOne', 'execute']) {
        const err = await expectDbError(pool[method](sql, [1, 'two', bad]), 'INVALID_ARGUMENT')
        expect(err.message).toMatch(/parameter 2\b/)
      }
      await stillServes()
    })

    test('inside a transaction: rejects, the transaction stays usable, nothing leaks', async () => {
      const tx = await pool.begin()
      try {
        const err = await expectDbError(tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [nextId(), bad]), 'INVALID_ARGUMENT')
        expect(err.message).toMatch(/parameter 1\b/)
        expect(await tx.queryOne('SELECT 2 AS two')).toEqual({ two: 2 })
      } finally {
        if (!tx.finished) await tx.rollback().catch(() => {})
      }
      await stillServes()
    })

    test('in batch: rejects naming statement and parameter, nothing applied', async () => {
      const a = nextId()
      const b = nextId()
      try {
        const err = await expectDbError(
          pool.batch([
            { sql: `INSERT INTO ${table} (id, v) VALUES (?, ?)`, params: [a, 'ok'] },
            { sql: `INSERT INTO ${table} (id, v) VALUES (?, ?)`, params: [b, bad] },
          ]),
          'INVALID_ARGUMENT',
        )
        expect(err.message).toMatch(/statement 1\b/)
        expect(err.message).toMatch(/parameter 1\b/)
        expect(await pool.query(`SELECT id FROM ${table} WHERE id IN (?, ?)`, [a, b])).toEqual([])
      } finally {
        await pool.execute(`DELETE FROM ${table} WHERE id IN (?, ?)`, [a, b]).catch(() => {})
      }
      await stillServes()
    })
  })

  test('typed arrays other than Uint8Array (Int32Array, Float64Array, DataView) are refused, not sent as raw bytes', async () => {
    const views = [new Int32Array([1, 2]), new Float64Array([1.5]), new DataView(new ArrayBuffer(4)), new Uint16Array([7])]
    const codes = []
    for (const view of views) {
      codes.push(await pool.queryOne('SELECT ? AS a /* view */', [view]).then(() => 'resolved', (e) => e.code))
    }
    expect(codes).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'])
    await stillServes()
  })

  test('a bad parameter makes the call return a rejected promise, not throw synchronously', async () => {
    let promise
    expect(() => {
      promise = pool.query('SELECT ? AS a', [Symbol('x')])
    }).not.toThrow()
    expect(typeof promise.then).toBe('function')
    await expectDbError(promise, 'INVALID_ARGUMENT')
  })

  test.each([
    ['a string', 'abc'],
    ['a number', 5],
    ['a plain object', { a: 1 }],
    ['a boolean', true],
    ['a Map', new Map()],
  ])('params that are %s (not an array) reject with INVALID_ARGUMENT', async (_, params) => {
    const err = await expectDbError(pool.query('SELECT 1 AS x', params), 'INVALID_ARGUMENT')
    expect(err.message).toMatch(/params/)
    await expectDbError(pool.execute('SELECT 1 AS x', params), 'INVALID_ARGUMENT')
    await stillServes()
  })

  test.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an object', { sql: 'SELECT 1' }],
    ['an array', ['SELECT 1']],
  ])('SQL that is %s rejects with INVALID_ARGUMENT', async (_, sql) => {
    for (const method of ['query', 'queryOne', 'execute']) {
      const err = await expectDbError(pool[method](sql), 'INVALID_ARGUMENT')
      expect(err.message).toMatch(/sql/i)
    }
    const tx = await pool.begin()
    await expectDbError(tx.query(sql), 'INVALID_ARGUMENT')
    await tx.rollback()
    await stillServes()
  })

  test.each([
    ['not an array', 'SELECT 1'],
    ['null', null],
    ['a statement that is not an object', [5]],
    ['a statement without sql', [{}]],
    ['a statement whose sql is a number', [{ sql: 5 }]],
    ['a statement whose params are not an array', [{ sql: 'SELECT 1 AS x', params: 'x' }]],
  ])('batch with %s rejects with INVALID_ARGUMENT', async (_, statements) => {
    await expectDbError(pool.batch(statements), 'INVALID_ARGUMENT')
    await stillServes()
  })

  test('too few parameters for the placeholders is refused, not run with NULLs', async () => {
    const k = nextId()
    let caught
    try {
      await pool.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?) /* too few */`, [k])
    } catch (e) {
      caught = e
    }
    expect(caught && caught.code).toMatch(/^(INVALID_ARGUMENT|QUERY_FAILED)$/)
    expect(await pool.query(`SELECT id FROM ${table} WHERE id = ?`, [k])).toEqual([])
    await stillServes()
  })

  test('more parameters than placeholders is refused, not silently ignored or misread', async () => {
    let caught
    let result
    try {
      result = await pool.queryOne('SELECT ? AS a /* too many */', [1, 2])
    } catch (e) {
      caught = e
    }
    expect({ result, code: caught && caught.code }).toEqual({ result: undefined, code: expect.stringMatching(/^(INVALID_ARGUMENT|QUERY_FAILED)$/) })
    await stillServes()
  })

  test('pool.transaction(fn) with a non-function rejects with INVALID_ARGUMENT', async () => {
    await expectDbError(pool.transaction(), 'INVALID_ARGUMENT')
    await expectDbError(pool.transaction({}), 'INVALID_ARGUMENT')
    await stillServes()
  })
})

describe('bad options throw synchronously at construction', () => {
  const url = () => sqliteUrl('opts')
  const NUMERIC = [
    'maxConnections',
    'minConnections',
    'acquireTimeoutMs',
    'connectTimeoutMs',
    'idleTimeoutMs',
    'maxLifetimeMs',
    'statementTimeoutMs',
    'leakDetectionMs',
    'healthCheckIntervalMs',
    'sessionCleanupIntervalMs',
  ]

  describe.each(NUMERIC)('%s', (name) => {
    test.each([
      ['negative', -1],
      ['a string', '100'],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['a fraction', 1.5],
      ['an object', {}],
    ])('%s is INVALID_ARGUMENT naming the option', (_, value) => {
      const err = expectThrowsDbError(() => new Pool({ url: url(), [name]: value }), 'INVALID_ARGUMENT')
      expect(err.message).toContain(name)
    })
  })

  test('maxConnections 0 is INVALID_ARGUMENT', () => {
    const err = expectThrowsDbError(() => new Pool({ url: url(), maxConnections: 0 }), 'INVALID_ARGUMENT')
    expect(err.message).toMatch(/maxConnections/)
  })

  test('minConnections greater than maxConnections is INVALID_ARGUMENT', () => {
    const err = expectThrowsDbError(() => new Pool({ url: url(), minConnections: 5, maxConnections: 2 }), 'INVALID_ARGUMENT')
    expect(err.message).toMatch(/minConnections/)
  })

  test('an unknown option key is INVALID_ARGUMENT naming it', () => {
    const err = expectThrowsDbError(() => new Pool({ url: url(), maxConnection: 5 }), 'INVALID_ARGUMENT')
    expect(err.message).toContain('maxConnection')
  })

  test.each([
    ['url', 5],
    ['applicationName', 5],
    ['statementCache', 'yes'],
    ['pgbouncer', 1],
  ])('%s of the wrong type is INVALID_ARGUMENT', (name, value) => {
    const err = expectThrowsDbError(() => new Pool({ url: url(), [name]: value }), 'INVALID_ARGUMENT')
    expect(err.message).toContain(name)
  })

  test.each([
    ['a string', 'file:./x.sqlite'],
    ['a number', 5],
    ['a boolean', true],
  ])('options that are %s are INVALID_ARGUMENT', (_, options) => {
    expectThrowsDbError(() => new Pool(options), 'INVALID_ARGUMENT')
  })

  test.each([
    ['unknown scheme', 'redis://127.0.0.1:6379'],
    ['not a URL at all', 'not a url'],
    ['bad port', 'postgres://u@127.0.0.1:99999999/db'],
    ['empty', ''],
    ['bad Prisma connection_limit', 'postgres://u@127.0.0.1/db?connection_limit=abc'],
    ['bad Prisma pool_timeout', 'postgres://u@127.0.0.1/db?pool_timeout=-3'],
  ])('URL %s is INVALID_URL', (_, badUrl) => {
    expectThrowsDbError(() => new Pool({ url: badUrl }), 'INVALID_URL')
  })

  test('a pool built after a refused construction works normally', async () => {
    expect(() => new Pool({ url: url(), maxConnections: -1 })).toThrow()
    const p = new Pool({ url: url(), maxConnections: 2 })
    try {
      expect(await p.queryOne('SELECT 1 AS ok')).toEqual({ ok: 1 })
      expect(p.status().inUse).toBe(0)
    } finally {
      await p.close()
    }
  })
})
