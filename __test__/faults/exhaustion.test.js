'use strict'
// Fault 4: exhaustion. 1,000 concurrent callers on a pool of 5. What must
// hold: all complete; waiting is fair (FIFO: no caller waits far longer
// than those queued before it); with a short acquireTimeoutMs the late ones
// get POOL_TIMEOUT with the pool's figures, the early ones are served; the
// pool serves normally afterwards.
//
// Fairness is measured as the caller sees it: callers are numbered in the
// order they call, and each one's completion rank is compared with its call
// rank. Up to 5 statements finish at once and their results may be
// delivered in any order, so a window of 2 × maxConnections is allowed;
// anything beyond it means a caller was served after callers that queued
// behind it.
const H = require('./harness')

const scan = H.installSecretScan('exhaustion')
const MAX = 5
const CALLERS = 1000
const WINDOW = 2 * MAX

/**
 * A statement echoing its parameter as `v`, reporting as `t` the server
 * clock (Unix ms) when it started, after roughly `seconds` of work (SQLite
 * has no sleep: a recursive CTE, with the clock read in its first row).
 * Server and test run on the same host, so `t` compares with Date.now().
 */
function work(backend, seconds) {
  if (backend === 'postgres') {
    return `SELECT CAST(? AS integer) AS v, CAST(extract(epoch from clock_timestamp()) * 1000 AS double precision) AS t, pg_sleep(${seconds})::text AS s`
  }
  if (backend === 'mysql') return `SELECT ? AS v, UNIX_TIMESTAMP(SYSDATE(6)) * 1000 AS t, SLEEP(${seconds}) AS s`
  const n = Math.max(1, Math.round(seconds * 1e7))
  return `WITH RECURSIVE c(x, t) AS (SELECT 1, (julianday('now') - 2440587.5) * 86400000.0 UNION ALL SELECT x + 1, t FROM c WHERE x < ${n}) SELECT ? AS v, max(t) AS t, count(*) AS s FROM c`
}

describe.each(H.backends())('1,000 callers on a pool of 5 ($name)', (backend) => {
  let url
  let account = null
  const pools = []

  beforeAll(async () => {
    if (backend.name === 'postgres') url = await H.postgresUrl()
    else if (backend.name === 'mysql') {
      account = await H.mysqlAccount()
      url = account.url
    }
  }, 60000)

  afterAll(async () => {
    for (const p of pools) await p.close({ timeoutMs: 3000 }).catch(() => {})
    if (account) await account.drop()
  }, 60000)

  function open(options) {
    const pool = new H.Pool({ url: url || backend.url(), maxConnections: MAX, ...options })
    pools.push(pool)
    return pool
  }

  /**
   * Fires CALLERS calls at once (caller i calls i-th); resolves with each
   * caller's { i, ok, code, error, rank } where rank is its completion order.
   */
  async function fire(pool, sql) {
    let rank = 0
    const max = { size: 0, waiting: 0 }
    const sampler = setInterval(() => {
      const st = pool.status()
      max.size = Math.max(max.size, st.size)
      max.waiting = Math.max(max.waiting, st.waiting)
    }, 5)
    try {
      const calls = Array.from({ length: CALLERS }, (_, i) => {
        const calledAt = Date.now()
        return pool.query(sql, [i]).then(
          (rows) => ({ i, ok: true, rows, calledAt, startedAt: Number(rows[0].t), rank: rank++ }),
          (error) => {
            scan.recordError('exhaustion', error)
            return { i, ok: false, code: error && error.code, error, calledAt, rank: rank++ }
          },
        )
      })
      const results = await H.within(Promise.all(calls), 300000, `${CALLERS} callers`)
      // Each caller got its own answer, not another's.
      for (const r of results) if (r.ok) expect(Number(r.rows[0].v)).toBe(r.i)
      return { results, maxSize: Math.max(max.size, pool.status().size), maxWaiting: max.waiting }
    } finally {
      clearInterval(sampler)
    }
  }

  /**
   * Callers that got their connection more than WINDOW places after their
   * call order: the rank of each caller's statement start (server clock)
   * against the order in which they called.
   */
  function unfair(results) {
    const order = [...results].sort((a, b) => a.startedAt - b.startedAt || a.i - b.i)
    order.forEach((r, k) => {
      r.startRank = k
    })
    return results
      .filter((r) => r.startRank - r.i > WINDOW)
      .map((r) => ({ caller: r.i, startedAs: r.startRank, overtakenBy: results.filter((o) => o.i > r.i && o.startRank < r.startRank).length }))
  }

  test('all 1,000 complete, in FIFO order within 2 × maxConnections; size never above 5', async () => {
    const pool = open({ acquireTimeoutMs: 120000 })
    await Promise.all(Array.from({ length: MAX }, () => pool.query('SELECT 1 AS x')))
    const { results, maxSize, maxWaiting } = await fire(pool, work(backend.name, 0.002))
    // The pool was saturated: most callers queued.
    expect(maxWaiting).toBeGreaterThan(CALLERS / 2)
    expect(results.filter((r) => !r.ok).map((r) => r.code)).toEqual([])
    expect(maxSize).toBeLessThanOrEqual(MAX)
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    const late = unfair(results)
    H.report({
      fault: `${backend.name}: 1,000 callers on 5 connections`,
      completed: results.filter((r) => r.ok).length,
      worstStartLateness: Math.max(...results.map((r) => r.startRank - r.i)),
      worstCompletionLateness: Math.max(...results.map((r) => r.rank - r.i)),
      unfairCallers: late.length,
    })
    // FIFO: nobody was served far behind the callers queued after it.
    expect(late.slice(0, 10)).toEqual([])
  }, 320000)

  test('short acquireTimeoutMs: the early callers are served, the late ones get POOL_TIMEOUT with the pool figures; then normal service', async () => {
    const ACQUIRE_MS = 400
    const STATEMENT_S = 0.05
    const pool = open({ acquireTimeoutMs: ACQUIRE_MS })
    await Promise.all(Array.from({ length: MAX }, () => pool.query('SELECT 1 AS x')))
    const before = pool.metrics()
    const started = Date.now()
    const { results, maxSize } = await fire(pool, work(backend.name, STATEMENT_S))
    const served = results.filter((r) => r.ok)
    const timedOut = results.filter((r) => !r.ok)
    // Only two outcomes: served, or POOL_TIMEOUT.
    expect([...new Set(timedOut.map((r) => r.code))]).toEqual(['POOL_TIMEOUT'])
    expect(served.length).toBeGreaterThan(0)
    expect(timedOut.length).toBeGreaterThan(CALLERS / 2)
    // Each message carries the pool's figures (size/idle/in use/waiting/max).
    for (const r of timedOut) {
      const m = /size (\d+), idle (\d+), in use (\d+), waiting (\d+), max (\d+)/.exec(r.error.message)
      expect(m && r.error.message).toBe(r.error.message)
      const [size, idle, inUse, waiting, max] = m.slice(1).map(Number)
      expect(max).toBe(MAX)
      expect(size).toBeLessThanOrEqual(MAX)
      expect(idle + inUse).toBeLessThanOrEqual(MAX)
      expect(waiting).toBeGreaterThanOrEqual(1)
      expect(waiting).toBeLessThanOrEqual(CALLERS)
      expect(r.error.message).toMatch(new RegExp(`${ACQUIRE_MS} ms`))
    }
    // Timed out callers gave up after about acquireTimeoutMs, not never.
    expect(Date.now() - started).toBeLessThan(120000)
    const after = pool.metrics()
    expect(after.acquireTimeouts - before.acquireTimeouts).toBe(timedOut.length)
    expect((after.errorsByCode.POOL_TIMEOUT || 0) - (before.errorsByCode.POOL_TIMEOUT || 0)).toBe(timedOut.length)
    expect(maxSize).toBeLessThanOrEqual(MAX)
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })

    // Normal service afterwards: a burst larger than the pool, all served; healthy.
    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => scan.settle(pool.queryOne(work(backend.name, 0), [i]), 'after')))
    expect(burst.filter((b) => !b.ok).map((b) => b.code)).toEqual([])
    expect((await pool.checkHealth({ timeoutMs: 3000 })).status).toBe('healthy')
    await scan.recordReports('after exhaustion', pool)

    // FIFO with deadlines: a caller gives up after its own acquireTimeoutMs,
    // so a later caller may be served once every earlier one has given up.
    // What must not happen: a caller's statement starting (server clock)
    // while a caller that called well before it was still inside its
    // deadline, and that caller then timing out. (50 ms of clock slack.)
    const overtaking = []
    for (const i of timedOut) {
      const deadline = i.calledAt + ACQUIRE_MS - 50
      const jumped = served.filter((j) => j.i > i.i + WINDOW && j.startedAt < deadline)
      if (jumped.length) overtaking.push({ timedOut: i.i, servedWhileItWaited: jumped.map((j) => j.i).slice(0, 5), count: jumped.length })
    }
    H.report({
      fault: `${backend.name}: 1,000 callers, acquireTimeoutMs ${ACQUIRE_MS}`,
      served: served.length,
      poolTimeouts: timedOut.length,
      lastServedCaller: Math.max(...served.map((r) => r.i)),
      overtakenTimedOutCallers: overtaking.length,
      sampleMessage: timedOut[0].error.message,
    })
    expect(overtaking.slice(0, 10)).toEqual([])
  }, 320000)
})
