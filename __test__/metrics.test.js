'use strict'
// metrics(): counters move exactly with the work done. N queries → +N
// (queriesTotal and queryTimeMs.count); one POOL_TIMEOUT → acquireTimeouts +1
// and errorsByCode.POOL_TIMEOUT +1; one refused statement → QUERY_FAILED +1
// and errorsTotal +1; connectionsCreated counts the connections opened;
// latency summaries are ordered (p50 <= p95 <= p99 <= max).
const { backends, openPool, expectDbError, slowSql, waitFor } = require('./helpers')

const LATENCY_KEYS = ['avg', 'count', 'max', 'p50', 'p95', 'p99']

function expectOrderedSummary(s) {
  expect(Object.keys(s).sort()).toEqual(LATENCY_KEYS)
  for (const k of LATENCY_KEYS) {
    expect(typeof s[k]).toBe('number')
    expect(Number.isFinite(s[k])).toBe(true)
    expect(s[k]).toBeGreaterThanOrEqual(0)
  }
  expect(Number.isInteger(s.count)).toBe(true)
  expect(s.p50).toBeLessThanOrEqual(s.p95)
  expect(s.p95).toBeLessThanOrEqual(s.p99)
  expect(s.p99).toBeLessThanOrEqual(s.max)
  expect(s.avg).toBeLessThanOrEqual(s.max)
  if (s.count > 0) expect(s.max).toBeGreaterThan(0)
}

const sumOf = (byCode) => Object.values(byCode).reduce((a, b) => a + b, 0)

describe.each(backends())('metrics on $name', (backend) => {
  let pool
  afterEach(async () => {
    if (pool) await pool.close()
    pool = undefined
  })

  test('a fresh pool reports zeros', () => {
    pool = openPool(backend)
    const m = pool.metrics()
    expect(m).toMatchObject({
      connectionsCreated: 0,
      connectionsClosed: 0,
      connectionsReaped: 0,
      queriesTotal: 0,
      queriesInline: 0,
      inlineOverruns: 0,
      errorsTotal: 0,
      errorsByCode: {},
      acquireTimeouts: 0,
      leaksDetected: 0,
      waiting: 0,
    })
    for (const k of ['connectTimeMs', 'acquireWaitMs', 'queryTimeMs']) {
      expect(m[k]).toEqual({ count: 0, avg: 0, p50: 0, p95: 0, p99: 0, max: 0 })
    }
  })

  test('N queries → queriesTotal +N, queryTimeMs.count +N, acquireWaitMs.count +N, no errors', async () => {
    pool = openPool(backend)
    await pool.query('SELECT 1 AS x') // warm: one connection
    const before = pool.metrics()
    const N = 17
    for (let i = 0; i < N; i++) {
      if (i % 3 === 0) await pool.query('SELECT ? AS x', [i])
      else if (i % 3 === 1) await pool.queryOne('SELECT ? AS x', [i])
      else await pool.execute('SELECT 1 AS x')
    }
    const after = pool.metrics()
    expect(after.queriesTotal - before.queriesTotal).toBe(N)
    expect(after.queryTimeMs.count - before.queryTimeMs.count).toBe(N)
    expect(after.acquireWaitMs.count - before.acquireWaitMs.count).toBe(N)
    expect(after.errorsTotal).toBe(0)
    expect(after.errorsByCode).toEqual({})
    // Each found the connection free: on SQLite all ran on the JS thread;
    // servers never do.
    expect(after.queriesInline - before.queriesInline).toBe(backend.name === 'sqlite' ? N : 0)
    expect(after.inlineOverruns).toBe(0)
    // Sequential queries reuse the one warm connection.
    expect(after.connectionsCreated).toBe(before.connectionsCreated)
  })

  test('N concurrent queries → +N exactly', async () => {
    pool = openPool(backend, { maxConnections: 3 })
    const before = pool.metrics()
    const N = 25
    await Promise.all(Array.from({ length: N }, (_, i) => pool.query('SELECT ? AS x', [i])))
    const after = pool.metrics()
    expect(after.queriesTotal - before.queriesTotal).toBe(N)
    expect(after.queryTimeMs.count - before.queryTimeMs.count).toBe(N)
  })

  test('one POOL_TIMEOUT → acquireTimeouts +1, errorsByCode.POOL_TIMEOUT +1, errorsTotal +1', async () => {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 150 })
    const tx = await pool.begin()
    try {
      const before = pool.metrics()
      await expectDbError(pool.query('SELECT 1 AS x'), 'POOL_TIMEOUT')
      const after = pool.metrics()
      expect(after.acquireTimeouts - before.acquireTimeouts).toBe(1)
      expect((after.errorsByCode.POOL_TIMEOUT || 0) - (before.errorsByCode.POOL_TIMEOUT || 0)).toBe(1)
      expect(after.errorsTotal - before.errorsTotal).toBe(1)
      // A caller that never got a connection ran no statement.
      expect(after.queriesTotal).toBe(before.queriesTotal)
      expect(after.waiting).toBe(0)
    } finally {
      await tx.rollback()
    }
  })

  test('three POOL_TIMEOUTs at once → +3', async () => {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 150 })
    const tx = await pool.begin()
    try {
      const before = pool.metrics()
      await Promise.all([
        expectDbError(pool.query('SELECT 1 AS x'), 'POOL_TIMEOUT'),
        expectDbError(pool.execute('SELECT 1 AS x'), 'POOL_TIMEOUT'),
        expectDbError(pool.begin(), 'POOL_TIMEOUT'),
      ])
      const after = pool.metrics()
      expect(after.acquireTimeouts - before.acquireTimeouts).toBe(3)
      expect(after.errorsByCode.POOL_TIMEOUT - (before.errorsByCode.POOL_TIMEOUT || 0)).toBe(3)
    } finally {
      await tx.rollback()
    }
  })

  test('metrics().waiting counts callers waiting right now', async () => {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 5000 })
    const tx = await pool.begin()
    const w1 = pool.query('SELECT 1 AS x')
    const w2 = pool.query('SELECT 2 AS x')
    await waitFor(() => pool.metrics().waiting === 2, 2000, 'two waiters')
    expect(pool.status().waiting).toBe(2)
    await tx.rollback()
    await Promise.all([w1, w2])
    expect(pool.metrics().waiting).toBe(0)
  })

  test('a syntax error → errorsByCode.QUERY_FAILED +1 and errorsTotal +1', async () => {
    pool = openPool(backend)
    await pool.query('SELECT 1 AS x')
    const before = pool.metrics()
    await expectDbError(pool.query('SELEC nonsense FROM'), 'QUERY_FAILED')
    const after = pool.metrics()
    expect((after.errorsByCode.QUERY_FAILED || 0) - (before.errorsByCode.QUERY_FAILED || 0)).toBe(1)
    expect(after.errorsTotal - before.errorsTotal).toBe(1)
    expect(after.acquireTimeouts).toBe(before.acquireTimeouts)
    expect(after.errorsByCode.POOL_TIMEOUT).toBeUndefined()
  })

  test('errors are counted on every path: pool, transaction, bad arguments; errorsTotal is their sum', async () => {
    pool = openPool(backend)
    const base = pool.metrics()
    expect(base.errorsTotal).toBe(0)
    await expectDbError(pool.query('SELEC 1'), 'QUERY_FAILED')
    await expectDbError(pool.execute('SELEC 1'), 'QUERY_FAILED')
    await expectDbError(pool.query(42), 'INVALID_ARGUMENT')
    const tx = await pool.begin()
    await expectDbError(tx.query('SELEC 1'), 'QUERY_FAILED')
    await tx.rollback()
    await expectDbError(tx.query('SELECT 1 AS x'), 'TRANSACTION_CLOSED')
    const m = pool.metrics()
    expect(m.errorsByCode).toEqual({ QUERY_FAILED: 3, INVALID_ARGUMENT: 1, TRANSACTION_CLOSED: 1 })
    expect(m.errorsTotal).toBe(5)
    expect(m.errorsTotal).toBe(sumOf(m.errorsByCode))
  })

  test('an invalid argument to a transaction method is counted like one to the pool', async () => {
    pool = openPool(backend)
    const tx = await pool.begin()
    try {
      const before = pool.metrics()
      await expectDbError(tx.query(42), 'INVALID_ARGUMENT')
      await expectDbError(tx.execute('SELECT ? AS x', [Symbol('nope')]), 'INVALID_ARGUMENT')
      const after = pool.metrics()
      expect((after.errorsByCode.INVALID_ARGUMENT || 0) - (before.errorsByCode.INVALID_ARGUMENT || 0)).toBe(2)
      expect(after.errorsTotal - before.errorsTotal).toBe(2)
    } finally {
      await tx.rollback()
    }
  })

  test('connectionsCreated counts opened connections; connectTimeMs.count matches; close() closes them all', async () => {
    pool = openPool(backend, { maxConnections: 5 })
    // Three slow queries at once on a fresh pool: three connections.
    await Promise.all([0, 1, 2].map(() => pool.query(slowSql(backend.name, 0.2))))
    let m = pool.metrics()
    expect(m.connectionsCreated).toBe(3)
    expect(pool.status().size).toBe(3)
    expect(m.connectTimeMs.count).toBe(3)
    expect(m.connectionsClosed).toBe(0)
    // Sequential work afterwards reuses them.
    for (let i = 0; i < 5; i++) await pool.query('SELECT 1 AS x')
    expect(pool.metrics().connectionsCreated).toBe(3)
    await pool.close()
    m = pool.metrics()
    expect(m.connectionsClosed).toBe(3)
    expect(m.connectionsReaped).toBe(0)
    expect(pool.status().size).toBe(0)
  })

  test('connectionsCreated never exceeds maxConnections under load', async () => {
    pool = openPool(backend, { maxConnections: 2 })
    await Promise.all(Array.from({ length: 6 }, () => pool.query(slowSql(backend.name, 0.05))))
    const m = pool.metrics()
    expect(m.connectionsCreated).toBeGreaterThanOrEqual(1)
    expect(m.connectionsCreated).toBeLessThanOrEqual(2)
    expect(m.queriesTotal).toBe(6)
  })

  test('latency summaries: count/avg/p50/p95/p99/max, ordered, count matching the work', async () => {
    pool = openPool(backend, { maxConnections: 3 })
    const N = 40
    for (let i = 0; i < N; i++) await pool.query('SELECT ? AS x', [i])
    // A few slower ones, so the distribution has a tail.
    await Promise.all([0, 1, 2].map(() => pool.query(slowSql(backend.name, 0.05))))
    const m = pool.metrics()
    expectOrderedSummary(m.queryTimeMs)
    expectOrderedSummary(m.acquireWaitMs)
    expectOrderedSummary(m.connectTimeMs)
    expect(m.queryTimeMs.count).toBe(N + 3)
    expect(m.acquireWaitMs.count).toBe(N + 3)
    expect(m.connectTimeMs.count).toBe(m.connectionsCreated)
    // The slow statements are the tail: max is at least one of them (50 ms of work).
    expect(m.queryTimeMs.max).toBeGreaterThanOrEqual(m.queryTimeMs.p50)
    expect(m.queryTimeMs.avg).toBeGreaterThan(0)
  })

  test('testConcurrentQueries(n) and ping() are counted as the statements they run', async () => {
    pool = openPool(backend)
    await pool.query('SELECT 1 AS x')
    const before = pool.metrics().queriesTotal
    await pool.testConcurrentQueries(4)
    expect(pool.metrics().queriesTotal - before).toBe(4)
    await pool.ping()
    expect(pool.metrics().queriesTotal - before).toBe(5)
  })
})
