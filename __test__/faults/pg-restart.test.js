'use strict'
// Fault 1: PostgreSQL restarted (pg_ctlcluster restart) while 32 queries
// stay in flight. What must hold: no crash; every promise settles within
// acquireTimeoutMs plus the statement time; failures carry
// CONNECTION_FAILED; checkHealth() goes unhealthy and back to healthy; full service
// within 1 s of the server answering again. The server is restored (started
// and answering) after the test whatever happens.
//
// Needs TEST_POSTGRES_URL on a local cluster and root (pg_ctlcluster), as in
// CI (.ci/run); skipped otherwise.
const fs = require('node:fs')
const path = require('node:path')
const H = require('./harness')

const scan = H.installSecretScan('pg-restart')

const LOOPS = 32
const MAX = 36 // a few spare connections so health checks never find the pool saturated
const ACQUIRE_MS = 2000
const CONNECT_MS = 1000
const STATEMENT_S = 0.2
// Event-loop and scheduling slack on a busy 2-core box (not a speed target).
const SLACK_MS = 1000
const FULL_SERVICE_MS = 1000
const LOAD_AFTER_ANSWER_MS = 3000

function onPath(cmd) {
  return (process.env.PATH || '').split(':').some((dir) => dir && fs.existsSync(path.join(dir, cmd)))
}

function localPg() {
  if (!H.PG_BASE) return false
  try {
    return ['127.0.0.1', 'localhost'].includes(new URL(H.PG_BASE).hostname)
  } catch (_) {
    return false
  }
}

const CAN_CONTROL =
  localPg() && typeof process.getuid === 'function' && process.getuid() === 0 && onPath('pg_ctlcluster') && onPath('pg_isready')

const maybe = CAN_CONTROL ? describe : describe.skip

maybe('PostgreSQL restarted while 32 queries are in flight', () => {
  let cluster
  let url
  let pool

  beforeAll(async () => {
    cluster = await H.pgCluster()
    if (cluster.reason) throw new Error(`cannot control the PostgreSQL server: ${cluster.reason}`)
    // Start from a server that answers (a previous run may have left it down).
    expect(await H.ensurePgUp(cluster)).toBe(true)
    url = await H.postgresUrl()
  }, 120000)

  afterAll(async () => {
    // Restore the server whatever happened, and wait until it answers.
    if (cluster && !cluster.reason) await H.ensurePgUp(cluster, 120000)
    if (pool) await pool.close({ timeoutMs: 2000 }).catch(() => {})
    // CI also runs a streaming replica of this server (TEST_REPLICA_URL):
    // let it reconnect to the restarted primary before other tests use it.
    if (process.env.TEST_REPLICA_URL) {
      const replica = new H.Pool({ url: process.env.TEST_REPLICA_URL, maxConnections: 1, connectTimeoutMs: 2000, acquireTimeoutMs: 3000 })
      const deadline = Date.now() + 60000
      try {
        while (Date.now() < deadline) {
          const row = await replica.queryOne('SELECT status FROM pg_stat_wal_receiver').catch(() => null)
          if (row && row.status === 'streaming') break
          await H.sleep(200)
        }
      } finally {
        await replica.close({ timeoutMs: 1000 }).catch(() => {})
      }
    }
  }, 180000)

  test('every call settles in bounded time with a coded failure, health goes unhealthy and back, full service within 1 s of the server answering', async () => {
    pool = new H.Pool({
      url,
      maxConnections: MAX,
      acquireTimeoutMs: ACQUIRE_MS,
      connectTimeoutMs: CONNECT_MS,
      applicationName: `sdp-faults-restart-${process.pid}`,
    })
    // Warm: every loop's connection is open before the fault.
    await Promise.all(Array.from({ length: LOOPS }, () => pool.query('SELECT 1 AS s FROM pg_sleep(0.05)')))

    const calls = []
    const health = []
    let stopLoad = false
    let stopHealth = false
    const t0 = Date.now()
    const now = () => Date.now() - t0

    const loops = Array.from({ length: LOOPS }, async () => {
      while (!stopLoad) {
        const start = now()
        const r = await scan.settle(pool.query(`SELECT 1 AS s FROM pg_sleep(${STATEMENT_S})`), 'load')
        calls.push({
          start,
          end: now(),
          ok: r.ok,
          code: r.code,
          sqlState: r.error ? r.error.sqlState : undefined,
          message: r.error ? r.error.message : undefined,
        })
        // A failed call backs off a little instead of spinning on a down server.
        if (!r.ok) await H.sleep(20)
      }
    })
    const healthPoller = (async () => {
      while (!stopHealth) {
        const at = now()
        const h = await scan.settle(pool.checkHealth({ timeoutMs: 500 }), 'checkHealth')
        health.push({ at, status: h.ok ? h.value.status : `threw ${h.code}`, error: h.ok ? h.value.error : null })
        if (h.ok) scan.record('health', JSON.stringify(h.value))
        await H.sleep(40)
      }
    })()

    let restart
    let answeredAt
    let fallback = null
    try {
      // 32 statements running on the server.
      await H.waitFor(() => pool.status().inUse >= LOOPS, 15000, '32 queries in flight')
      await H.sleep(300)
      const healthyBefore = health.filter((h) => h.status === 'healthy').length

      const restartAt = now()
      restart = await H.pgCtl(cluster, 'restart')
      restart.startedAt = restartAt
      restart.endedAt = now()
      expect({ code: restart.code, stderr: restart.stderr }).toEqual({ code: 0, stderr: expect.any(String) })

      // The server answers again (a fresh connection, outside the pool).
      const deadline = Date.now() + 60000
      while (!(await H.pgIsReady())) {
        if (Date.now() > deadline) throw new Error('PostgreSQL did not answer within 60 s of the restart')
        await H.sleep(20)
      }
      answeredAt = now()

      // Keep the load on long enough to see full service.
      await H.sleep(LOAD_AFTER_ANSWER_MS)

      // Health must have been seen unhealthy while the server was away. A
      // restart too quick for the poller to see is repeated as stop/start,
      // starting again as soon as the pool reports unhealthy.
      const sawUnhealthy = health.some((h) => h.at >= restartAt && h.at <= answeredAt && h.status === 'unhealthy')
      if (!sawUnhealthy) {
        fallback = { stopAt: now() }
        const stop = await H.pgCtl(cluster, 'stop')
        expect(stop.code).toBe(0)
        try {
          await H.waitFor(() => health.some((h) => h.at >= fallback.stopAt && h.status === 'unhealthy'), 20000, 'unhealthy after stop')
        } finally {
          const start = await H.pgCtl(cluster, 'start')
          fallback.start = start.code
        }
        while (!(await H.pgIsReady())) await H.sleep(20)
        fallback.answeredAt = now()
        await H.sleep(LOAD_AFTER_ANSWER_MS)
      }
      expect(healthyBefore).toBeGreaterThan(0)
    } finally {
      stopLoad = true
      // Every in-flight call settles (each is bounded below); the loops end.
      await H.within(Promise.all(loops), ACQUIRE_MS + CONNECT_MS + 30000, 'the load loops')
      // Health back to healthy once the load is off.
      const healthyDeadline = Date.now() + 15000
      while (Date.now() < healthyDeadline && !(health.length && health[health.length - 1].status === 'healthy' && health[health.length - 1].at > answeredAt)) {
        await H.sleep(50)
      }
      stopHealth = true
      await healthPoller
    }

    const lastAnswer = fallback ? fallback.answeredAt : answeredAt
    const outageFrom = restart.startedAt

    // 1. Every promise settled within acquireTimeoutMs + statement time.
    const bound = ACQUIRE_MS + STATEMENT_S * 1000 + SLACK_MS
    const slow = calls.filter((c) => c.end - c.start > bound)
    expect(slow.map((c) => `${c.end - c.start} ms ${c.ok ? 'ok' : c.code}`)).toEqual([])

    // 2. Failures carry CONNECTION_FAILED: the connection broke (57P01
    //    admin shutdown) or could not be made (refused, 57P03 starting up).
    const failures = calls.filter((c) => !c.ok)
    expect(failures.length).toBeGreaterThan(0)
    const badFailures = failures.filter((c) => c.code !== 'CONNECTION_FAILED')
    expect(badFailures.map((c) => `${c.code} ${c.sqlState}: ${c.message}`)).toEqual([])
    // Nothing failed before the restart began.
    expect(failures.filter((c) => c.end < outageFrom).map((c) => c.code)).toEqual([])

    // 3. Health: healthy, then unhealthy during the outage, then healthy again.
    const downFrom = fallback ? fallback.stopAt : outageFrom
    const firstUnhealthy = health.find((h) => h.at >= downFrom && h.status === 'unhealthy')
    expect(firstUnhealthy).toBeDefined()
    expect(typeof firstUnhealthy.error).toBe('string')
    const healthyAgain = health.find((h) => h.at > lastAnswer && h.at > firstUnhealthy.at && h.status === 'healthy')
    expect(healthyAgain).toBeDefined()
    // Health never threw.
    expect(health.filter((h) => h.status.startsWith('threw'))).toEqual([])

    // 4. Full service within 1 s of the server answering: every call that
    //    started from then on succeeded, and there were plenty of them.
    const after = calls.filter((c) => c.start >= lastAnswer + FULL_SERVICE_MS)
    expect(after.length).toBeGreaterThan(LOOPS)
    expect(after.filter((c) => !c.ok).map((c) => `${c.code}: ${c.message}`)).toEqual([])
    // When exactly it came back: the first start time after which nothing failed.
    const lastFailure = failures.reduce((m, c) => Math.max(m, c.start), -Infinity)
    const recoveredMs = Math.max(0, lastFailure - lastAnswer)

    // 5. The pool is whole: nothing in use, within max, serves a full burst.
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    expect(pool.status().size).toBeLessThanOrEqual(MAX)
    const burst = await Promise.all(Array.from({ length: MAX }, () => scan.settle(pool.queryOne('SELECT 1 AS x'), 'burst')))
    expect(burst.filter((b) => !b.ok).map((b) => b.code)).toEqual([])
    await scan.recordReports('after restart', pool, { detailed: true })

    const codes = {}
    for (const f of failures) {
      const k = `${f.code}${f.sqlState ? `/${f.sqlState}` : ''}`
      codes[k] = (codes[k] || 0) + 1
    }
    H.report({
      fault: 'postgres restart with 32 queries in flight',
      restartMs: restart.endedAt - restart.startedAt,
      answeredAfterRestartCmdMs: answeredAt - restart.startedAt,
      fallbackStopStart: Boolean(fallback),
      calls: calls.length,
      failures: codes,
      maxSettleMs: Math.max(...calls.map((c) => c.end - c.start)),
      unhealthyAtMs: firstUnhealthy.at - downFrom,
      healthyAgainAfterAnswerMs: healthyAgain.at - lastAnswer,
      lastFailureAfterAnswerMs: recoveredMs,
    })
  }, 240000)
})
