'use strict'
// Pool behaviour: a rejected call never keeps a connection. Right after the
// await of any failed call, status().inUse is back to 0.
const { backends, tableName, TYPES, openPool, tableOptions, dropTable, slowSql } = require('./helpers')

describe.each(backends())('inUse after rejected calls on $name', (backend) => {
  const T = TYPES[backend.name]
  let pool
  let table

  beforeAll(async () => {
    pool = openPool(backend, { maxConnections: 3, statementTimeoutMs: 2000 })
    table = tableName('inuse')
    await pool.execute(`CREATE TABLE ${table} (id ${T.int} PRIMARY KEY, v ${T.text})${tableOptions(backend.name)}`)
    await pool.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [1, 'one'])
  })

  afterAll(async () => {
    await dropTable(pool, table)
    await pool.close()
  })

  /** Awaits the call, expects a rejection, and returns inUse read right after. */
  async function inUseAfterRejection(makeCall) {
    let rejected = false
    try {
      await makeCall()
    } catch (_) {
      rejected = true
    }
    const inUse = pool.status().inUse
    expect(rejected).toBe(true)
    return inUse
  }

  const cases = [
    ['a syntax error (query)', (p) => p.query('SELEC 1')],
    ['a syntax error (queryOne)', (p) => p.queryOne('SELEC 1')],
    ['a syntax error (execute)', (p) => p.execute('SELEC 1')],
    ['a missing table', (p) => p.query('SELECT * FROM no_such_table_inuse')],
    ['a bad param (symbol)', (p) => p.query('SELECT ? AS a', [Symbol('x')])],
    ['a bad param (NaN)', (p) => p.execute('SELECT ? AS a', [NaN])],
    ['non-array params', (p) => p.query('SELECT 1 AS a', 'nope')],
    ['non-string SQL', (p) => p.query(42)],
    ['a unique violation', (p) => p.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [1, 'dup'])],
    ['a type violation (text into the integer key)', (p) => p.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, ['abc', 'x'])],
    [
      'a failing batch',
      (p) =>
        p.batch([
          { sql: `INSERT INTO ${table} (id, v) VALUES (?, ?)`, params: [50, 'a'] },
          { sql: `INSERT INTO ${table} (id, v) VALUES (?, ?)`, params: [1, 'dup'] },
        ]),
    ],
    ['a batch with a bad param', (p) => p.batch([{ sql: 'SELECT ? AS a', params: [() => 1] }])],
    [
      'transaction(fn) whose fn throws',
      (p) =>
        p.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [60, 'x'])
          throw new Error('boom')
        }),
    ],
    [
      'transaction(fn) whose statement fails',
      (p) =>
        p.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [1, 'dup'])
        }),
    ],
    ['a statement timeout', (p) => p.query(slowSql(backend.name, 10))],
  ]

  test.each(cases)('%s', async (_, call) => {
    expect(await inUseAfterRejection(() => call(pool))).toBe(0)
    expect(pool.status().waiting).toBe(0)
    // And the pool still answers.
    expect(await pool.queryOne('SELECT 1 AS ok')).toEqual({ ok: 1 })
  })

  test('a rejected call on a committed transaction (TRANSACTION_CLOSED)', async () => {
    const tx = await pool.begin()
    await tx.commit()
    expect(await inUseAfterRejection(() => tx.query('SELECT 1 AS x'))).toBe(0)
  })

  test('a failing statement inside begin() keeps exactly the transaction’s connection until rollback', async () => {
    const tx = await pool.begin()
    expect(await inUseAfterRejection(() => tx.query('SELEC 1'))).toBe(1)
    await tx.rollback()
    expect(pool.status().inUse).toBe(0)
  })

  test('many rejected calls at once leave inUse 0', async () => {
    const calls = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0 ? pool.query('SELEC 1') : i % 3 === 1 ? pool.query('SELECT ? AS a', [Symbol('s')]) : pool.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [1, 'dup']),
    )
    const results = await Promise.allSettled(calls)
    expect(pool.status().inUse).toBe(0)
    expect(results.every((r) => r.status === 'rejected')).toBe(true)
  })
})
