'use strict'
// Health reports: checkHealth() / detailedHealth() / testConcurrentQueries()
// / ping() with exactly the keys and types of the contract (the seed app's
// /health/database and /health/detailed bodies), the status rules (healthy,
// degraded when the pool is saturated, unhealthy when the database cannot be
// queried or the pool is closed), and "never throws, answers within the
// timeout" for a database that is down or hangs.
const { Pool, backends, openPool, silentServer, settleWithin, expectDbError, sleep, waitFor } = require('./helpers')

const STATUSES = ['healthy', 'degraded', 'unhealthy']
const HEALTH_KEYS = ['checked_at', 'connection_time_ms', 'database_type', 'error', 'pool_info', 'status']
const POOL_INFO_KEYS = ['idle', 'in_use', 'max_connections', 'size', 'waiting']
const DETAILED_KEYS = ['checked_at', 'connection_pool', 'database', 'metrics', 'process', 'status']
const CONCURRENCY_KEYS = ['all_queries_successful', 'average_time_ms', 'concurrent_queries', 'status', 'total_time_ms']
const PROCESS_KEYS = ['heap_used_bytes', 'rss_bytes', 'uptime_s']
const METRICS_KEYS = [
  'acquireTimeouts',
  'acquireWaitMs',
  'connectTimeMs',
  'connectionsClosed',
  'connectionsCreated',
  'connectionsReaped',
  'errorsByCode',
  'errorsTotal',
  'inlineOverruns',
  'leaksDetected',
  'queriesInline',
  'queriesTotal',
  'queryTimeMs',
  'waiting',
]
const LATENCY_KEYS = ['avg', 'count', 'max', 'p50', 'p95', 'p99']
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

const isNum = (v) => typeof v === 'number' && Number.isFinite(v)
const isCount = (v) => Number.isInteger(v) && v >= 0

/** A timestamp the report says it was made at: ISO, UTC, and about now. */
function expectCheckedAt(value, before, after) {
  expect(typeof value).toBe('string')
  expect(value).toMatch(ISO)
  expect(new Date(value).toISOString()).toBe(value)
  const t = Date.parse(value)
  expect(t).toBeGreaterThanOrEqual(before - 1000)
  expect(t).toBeLessThanOrEqual(after + 1000)
}

function expectDatabaseHealthShape(h, backendName) {
  expect(Object.keys(h).sort()).toEqual(HEALTH_KEYS)
  expect(STATUSES).toContain(h.status)
  expect(isNum(h.connection_time_ms)).toBe(true)
  expect(h.connection_time_ms).toBeGreaterThanOrEqual(0)
  expect(h.database_type).toBe(backendName)
  expect(Object.keys(h.pool_info).sort()).toEqual(POOL_INFO_KEYS)
  for (const k of POOL_INFO_KEYS) expect(isCount(h.pool_info[k])).toBe(true)
  expect(h.error === null || typeof h.error === 'string').toBe(true)
}

function expectLatencyShape(s) {
  expect(Object.keys(s).sort()).toEqual(LATENCY_KEYS)
  for (const k of LATENCY_KEYS) {
    expect(isNum(s[k])).toBe(true)
    expect(s[k]).toBeGreaterThanOrEqual(0)
  }
  expect(Number.isInteger(s.count)).toBe(true)
}

function expectMetricsShape(m) {
  expect(Object.keys(m).sort()).toEqual(METRICS_KEYS)
  for (const k of ['connectionsCreated', 'connectionsClosed', 'connectionsReaped', 'queriesTotal', 'queriesInline', 'inlineOverruns', 'errorsTotal', 'acquireTimeouts', 'leaksDetected', 'waiting']) {
    expect(isCount(m[k])).toBe(true)
  }
  for (const k of ['connectTimeMs', 'acquireWaitMs', 'queryTimeMs']) expectLatencyShape(m[k])
  expect(typeof m.errorsByCode).toBe('object')
  expect(m.errorsByCode).not.toBeNull()
  for (const [code, n] of Object.entries(m.errorsByCode)) {
    expect(code).toMatch(/^[A-Z_]+$/)
    expect(isCount(n)).toBe(true)
  }
}

function expectConcurrencyShape(r) {
  expect(Object.keys(r).sort()).toEqual(CONCURRENCY_KEYS)
  expect(STATUSES).toContain(r.status)
  expect(isCount(r.concurrent_queries)).toBe(true)
  expect(isNum(r.total_time_ms)).toBe(true)
  expect(r.total_time_ms).toBeGreaterThanOrEqual(0)
  expect(isNum(r.average_time_ms)).toBe(true)
  expect(r.average_time_ms).toBeGreaterThanOrEqual(0)
  expect(typeof r.all_queries_successful).toBe('boolean')
}

describe.each(backends())('health reports on $name', (backend) => {
  let pool
  afterEach(async () => {
    if (pool) await pool.close()
    pool = undefined
  })

  test('checkHealth(): exactly the contract keys and types, healthy, error null', async () => {
    pool = openPool(backend, { maxConnections: 4 })
    const before = Date.now()
    const h = await pool.checkHealth()
    const after = Date.now()
    expectDatabaseHealthShape(h, backend.name)
    expect(h.status).toBe('healthy')
    expect(h.error).toBeNull()
    expectCheckedAt(h.checked_at, before, after)
    expect(h.pool_info.max_connections).toBe(4)
    // The ping opened one connection and gave it back.
    expect(h.pool_info).toEqual({ max_connections: 4, size: 1, idle: 1, in_use: 0, waiting: 0 })
    // Plain JSON: what a route returns as the body.
    expect(JSON.parse(JSON.stringify(h))).toEqual(h)
  })

  test('checkHealth(): pool_info mirrors status() while connections are lent', async () => {
    pool = openPool(backend, { maxConnections: 3 })
    const tx = await pool.begin()
    try {
      const h = await pool.checkHealth()
      expect(h.status).toBe('healthy')
      const s = pool.status()
      expect(h.pool_info).toEqual({
        max_connections: s.maxConnections,
        size: s.size,
        idle: s.idle,
        in_use: s.inUse,
        waiting: s.waiting,
      })
      expect(h.pool_info.in_use).toBe(1)
      expect(h.pool_info.size).toBe(2)
    } finally {
      await tx.rollback()
    }
  })

  test('detailedHealth(): exactly the contract keys and types', async () => {
    pool = openPool(backend)
    await pool.query('SELECT 1 AS x')
    const before = Date.now()
    const d = await pool.detailedHealth()
    const after = Date.now()
    expect(Object.keys(d).sort()).toEqual(DETAILED_KEYS)
    expect(d.status).toBe('healthy')
    expectCheckedAt(d.checked_at, before, after)

    expectDatabaseHealthShape(d.database, backend.name)
    expect(d.database.status).toBe('healthy')
    expect(d.database.error).toBeNull()
    expectCheckedAt(d.database.checked_at, before, after)

    expectConcurrencyShape(d.connection_pool)
    expect(d.connection_pool.status).toBe('healthy')
    expect(d.connection_pool.concurrent_queries).toBe(3)
    expect(d.connection_pool.all_queries_successful).toBe(true)

    expectMetricsShape(d.metrics)
    // The report's metrics include the work done so far: our query, the
    // health ping and the 3 concurrent queries.
    expect(d.metrics.queriesTotal).toBeGreaterThanOrEqual(1 + 3)
    expect(d.metrics.connectionsCreated).toBeGreaterThanOrEqual(1)

    expect(Object.keys(d.process).sort()).toEqual(PROCESS_KEYS)
    expect(isNum(d.process.rss_bytes) && d.process.rss_bytes > 0).toBe(true)
    expect(isNum(d.process.heap_used_bytes) && d.process.heap_used_bytes > 0).toBe(true)
    expect(isNum(d.process.uptime_s) && d.process.uptime_s > 0).toBe(true)
    expect(d.process.uptime_s).toBeLessThanOrEqual(process.uptime() + 5)
    expect(JSON.parse(JSON.stringify(d))).toEqual(d)
  })

  test('detailedHealth({ concurrentQueries }) runs that many queries', async () => {
    pool = openPool(backend)
    const d = await pool.detailedHealth({ concurrentQueries: 7 })
    expect(d.connection_pool.concurrent_queries).toBe(7)
    expect(d.connection_pool.all_queries_successful).toBe(true)
    expect(d.status).toBe('healthy')
  })

  test('testConcurrentQueries(): default 3, a given count, contract keys', async () => {
    pool = openPool(backend)
    const r = await pool.testConcurrentQueries()
    expectConcurrencyShape(r)
    expect(r).toMatchObject({ status: 'healthy', concurrent_queries: 3, all_queries_successful: true })

    const q0 = pool.metrics().queriesTotal
    const r5 = await pool.testConcurrentQueries(5)
    expectConcurrencyShape(r5)
    expect(r5).toMatchObject({ status: 'healthy', concurrent_queries: 5, all_queries_successful: true })
    // It really ran 5 queries through the pool.
    expect(pool.metrics().queriesTotal - q0).toBe(5)
  })

  test('testConcurrentQueries() rejects a count that is not a positive whole number', async () => {
    pool = openPool(backend)
    await expectDbError(pool.testConcurrentQueries(0), 'INVALID_ARGUMENT')
    await expectDbError(pool.testConcurrentQueries(-2), 'INVALID_ARGUMENT')
    await expectDbError(pool.testConcurrentQueries(1.5), 'INVALID_ARGUMENT')
    await expectDbError(pool.testConcurrentQueries('three'), 'INVALID_ARGUMENT')
  })

  test('ping() resolves with a round trip in ms', async () => {
    pool = openPool(backend)
    const ms = await pool.ping()
    expect(typeof ms).toBe('number')
    expect(Number.isFinite(ms)).toBe(true)
    expect(ms).toBeGreaterThanOrEqual(0)
  })

  test('after close(): checkHealth() and detailedHealth() report unhealthy with an error, never throw', async () => {
    pool = openPool(backend)
    await pool.query('SELECT 1 AS x')
    await pool.close()
    const h = await pool.checkHealth()
    expectDatabaseHealthShape(h, backend.name)
    expect(h.status).toBe('unhealthy')
    expect(typeof h.error).toBe('string')
    expect(h.error.length).toBeGreaterThan(0)
    const d = await pool.detailedHealth()
    expect(Object.keys(d).sort()).toEqual(DETAILED_KEYS)
    expect(d.status).toBe('unhealthy')
    expect(d.database.status).toBe('unhealthy')
    expect(d.connection_pool.all_queries_successful).toBe(false)
  })

  test('saturated (every connection in use, a caller waiting): checkHealth() reports degraded promptly', async () => {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 10000 })
    const tx = await pool.begin()
    const waiter = pool.queryOne('SELECT 1 AS x')
    await waitFor(() => pool.status().waiting >= 1, 2000, 'a waiting caller')
    try {
      const started = Date.now()
      const h = await settleWithin(pool.checkHealth(), 4000)
      expect(h).not.toBe('hung')
      expect(Date.now() - started).toBeLessThan(2000) // does not queue behind the waiter (acquireTimeoutMs 10 s)
      expectDatabaseHealthShape(h, backend.name)
      expect(h.status).toBe('degraded')
      expect(h.error).toBeNull()
      expect(h.pool_info).toMatchObject({ max_connections: 1, size: 1, idle: 0, in_use: 1 })
      expect(h.pool_info.waiting).toBeGreaterThanOrEqual(1)
    } finally {
      await tx.rollback()
    }
    expect(await waiter).toEqual({ x: 1 })
    expect((await pool.checkHealth()).status).toBe('healthy')
  })

  test('every connection in use (nobody else waiting): a health check that cannot get one is degraded, not unhealthy', async () => {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 10000 })
    const tx = await pool.begin()
    try {
      const h = await settleWithin(pool.checkHealth({ timeoutMs: 300 }), 4000)
      expect(h).not.toBe('hung')
      expect(h.status).toBe('degraded')
      // The health check's own wait is over: it leaves no waiter behind.
      expect(pool.status().waiting).toBe(0)
    } finally {
      await tx.rollback()
    }
  })

  test('saturated: detailedHealth() is degraded (the pool is saturated, the database answers), not unhealthy', async () => {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 10000 })
    const tx = await pool.begin()
    const waiter = pool.queryOne('SELECT 1 AS x')
    await waitFor(() => pool.status().waiting >= 1, 2000, 'a waiting caller')
    let d
    try {
      d = await settleWithin(pool.detailedHealth({ timeoutMs: 500 }), 4000)
    } finally {
      await tx.rollback()
    }
    expect(await waiter).toEqual({ x: 1 })
    expect(d).not.toBe('hung')
    expect(d.database.status).toBe('degraded')
    // Contract: degraded = "slow, or pool saturated"; unhealthy = "cannot query".
    expect(d.status).toBe('degraded')
  })
})

// A server that is down: nothing listens on port 1.
const DOWN = [
  { name: 'postgres', url: 'postgres://postgres:S3cretPw@127.0.0.1:1/test' },
  { name: 'mysql', url: 'mysql://root:S3cretPw@127.0.0.1:1/test' },
]

describe.each(DOWN)('health of a $name server on a closed port', ({ name, url }) => {
  let pool
  afterEach(async () => {
    if (pool) await pool.close({ timeoutMs: 1000 })
    pool = undefined
  })

  test('checkHealth() resolves unhealthy (no throw) within the timeout, with an error string', async () => {
    pool = new Pool({ url, connectTimeoutMs: 3000 })
    const started = Date.now()
    const h = await settleWithin(pool.checkHealth({ timeoutMs: 1000 }), 5000)
    expect(h).not.toBe('hung')
    expect(Date.now() - started).toBeLessThan(5000)
    expectDatabaseHealthShape(h, name)
    expect(h.status).toBe('unhealthy')
    expect(typeof h.error).toBe('string')
    expect(h.error.length).toBeGreaterThan(0)
    expect(h.error).not.toContain('S3cretPw')
    expect(h.pool_info).toMatchObject({ size: 0, in_use: 0, waiting: 0 })
  })

  test('detailedHealth() resolves unhealthy within the timeout, all_queries_successful false', async () => {
    pool = new Pool({ url, connectTimeoutMs: 3000 })
    const d = await settleWithin(pool.detailedHealth({ timeoutMs: 1000 }), 5000)
    expect(d).not.toBe('hung')
    expect(Object.keys(d).sort()).toEqual(DETAILED_KEYS)
    expect(d.status).toBe('unhealthy')
    expect(d.database.status).toBe('unhealthy')
    expect(typeof d.database.error).toBe('string')
    expectConcurrencyShape(d.connection_pool)
    expect(d.connection_pool.all_queries_successful).toBe(false)
    expectMetricsShape(d.metrics)
  })

  test('testConcurrentQueries() reports the failure (unhealthy, not all successful) rather than hanging', async () => {
    pool = new Pool({ url, connectTimeoutMs: 3000 })
    const r = await settleWithin(
      pool.testConcurrentQueries(2).catch((e) => ({ rejected: e.code })),
      5000,
    )
    expect(r).not.toBe('hung')
    if (!r.rejected) {
      expectConcurrencyShape(r)
      expect(r.status).toBe('unhealthy')
      expect(r.all_queries_successful).toBe(false)
    } else {
      expect(r.rejected).toBe('CONNECTION_FAILED')
    }
  })

  test('ping() rejects with CONNECTION_FAILED', async () => {
    pool = new Pool({ url, connectTimeoutMs: 3000 })
    await expectDbError(pool.ping(), 'CONNECTION_FAILED')
  })
})

describe.each(['postgres', 'mysql'])('health of a %s server that accepts but never answers', (scheme) => {
  let server
  let pool
  beforeEach(async () => {
    server = await silentServer()
  })
  afterEach(async () => {
    if (pool) await settleWithin(pool.close({ timeoutMs: 500 }), 3000)
    pool = undefined
    await server.close()
  })

  function hangingPool() {
    const user = scheme === 'postgres' ? 'postgres' : 'root'
    // connectTimeoutMs far above the health timeout: the health check's own
    // timeout must be what ends the wait.
    return new Pool({ url: `${scheme}://${user}:S3cretPw@127.0.0.1:${server.port}/test`, connectTimeoutMs: 20000 })
  }

  test('checkHealth({ timeoutMs: 500 }) is unhealthy within the timeout, not after connectTimeoutMs', async () => {
    pool = hangingPool()
    const started = Date.now()
    const h = await settleWithin(pool.checkHealth({ timeoutMs: 500 }), 5000)
    const took = Date.now() - started
    expect(h).not.toBe('hung')
    expect(took).toBeLessThan(3000)
    expect(h.status).toBe('unhealthy')
    expect(typeof h.error).toBe('string')
    expect(h.error).not.toContain('S3cretPw')
  })

  test('detailedHealth({ timeoutMs: 500 }) is unhealthy within a few timeouts', async () => {
    pool = hangingPool()
    const d = await settleWithin(pool.detailedHealth({ timeoutMs: 500 }), 5000)
    expect(d).not.toBe('hung')
    expect(d.status).toBe('unhealthy')
    expect(d.connection_pool.all_queries_successful).toBe(false)
  })

  test('a health check that timed out while connecting leaves no phantom connection in status()', async () => {
    pool = hangingPool()
    const h = await pool.checkHealth({ timeoutMs: 300 })
    expect(h.status).toBe('unhealthy')
    // No connection was ever opened: size must come back to 0 (the abandoned
    // connection attempt must not stay counted).
    let size = pool.status().size
    const until = Date.now() + 1500
    while (size !== 0 && Date.now() < until) {
      await sleep(50)
      size = pool.status().size
    }
    expect(pool.status()).toMatchObject({ size: 0, idle: 0, inUse: 0, waiting: 0 })
    expect(pool.metrics().connectionsCreated).toBe(0)
    const again = await pool.checkHealth({ timeoutMs: 300 })
    expect(again.pool_info.size).toBe(0)
  })
})
