'use strict'
// Background work (health monitor, session cleanup, upkeep) runs in Rust,
// never keeps the Node process alive by itself, waits for the pool's first
// use (the pool stays lazy), and stops at close().
const { backends, openPool, sleep, waitFor, runNode, lastJson } = require('./helpers')

const LIB = require.resolve('../lib/index.js')

describe.each(backends())('background work on $name', (backend) => {
  test('a process that uses such a pool once and then does nothing exits by itself (code 0)', async () => {
    // The child waits long enough for several background rounds to run,
    // reports them, and then leaves nothing of its own scheduled.
    const script = `
      const { Pool } = require(${JSON.stringify(LIB)})
      const pool = new Pool({
        url: process.env.SDP_URL,
        healthCheckIntervalMs: 50,
        sessionCleanupIntervalMs: 50,
        idleTimeoutMs: 200,
        minConnections: 1,
      })
      pool.query('SELECT 1 AS x').then((rows) => {
        setTimeout(() => {
          console.log(JSON.stringify({ rows, queriesTotal: pool.metrics().queriesTotal, size: pool.status().size }))
        }, 400)
      }, (e) => { console.error(e); process.exitCode = 1 })
    `
    const r = await runNode(script, { env: { SDP_URL: backend.url() }, timeoutMs: 15000 })
    expect(r.killed).toBe(false) // it did not have to be killed
    expect(r.signal).toBeNull()
    if (r.code !== 0) throw new Error(`child exited ${r.code}:\n${r.stderr}`)
    const out = lastJson(r.stdout)
    expect(out.rows).toEqual([{ x: 1 }])
    // Background pings ran while it was alive: more statements than the one query.
    expect(out.queriesTotal).toBeGreaterThan(1)
    // Exited within a few seconds of its last own timer (400 ms).
    expect(r.elapsedMs).toBeLessThan(8000)
  })

  test('the same with an idle connection kept warm and leak detection on: still exits by itself', async () => {
    const script = `
      const { Pool } = require(${JSON.stringify(LIB)})
      const pool = new Pool({ url: process.env.SDP_URL, healthCheckIntervalMs: 100, sessionCleanupIntervalMs: 100, leakDetectionMs: 5000, minConnections: 2 })
      pool.connect().then(() => pool.transaction((tx) => tx.query('SELECT 1 AS x'))).then(() => console.log(JSON.stringify({ ok: true })))
    `
    const r = await runNode(script, { env: { SDP_URL: backend.url() }, timeoutMs: 15000 })
    expect(r.killed).toBe(false)
    if (r.code !== 0) throw new Error(`child exited ${r.code}:\n${r.stderr}`)
    expect(lastJson(r.stdout)).toEqual({ ok: true })
    expect(r.elapsedMs).toBeLessThan(8000)
  })

  test('a pool never used does no background work (lazy): no connection, no statement', async () => {
    const pool = openPool(backend, { healthCheckIntervalMs: 50, sessionCleanupIntervalMs: 50, minConnections: 1, idleTimeoutMs: 100 })
    try {
      await sleep(500)
      const m = pool.metrics()
      expect(m.connectionsCreated).toBe(0)
      expect(m.queriesTotal).toBe(0)
      expect(pool.status().size).toBe(0)
    } finally {
      await pool.close()
    }
  })

  test('background pings run after first use and stop at close(): queriesTotal stops growing', async () => {
    const pool = openPool(backend, { healthCheckIntervalMs: 50, sessionCleanupIntervalMs: 50 })
    await pool.query('SELECT 1 AS x')
    const first = pool.metrics().queriesTotal
    // Positive control: the monitor is running.
    await waitFor(() => pool.metrics().queriesTotal >= first + 3, 3000, 'background statements')
    await pool.close()
    const atClose = pool.metrics().queriesTotal
    await sleep(500)
    expect(pool.metrics().queriesTotal).toBe(atClose)
    expect(pool.status()).toMatchObject({ size: 0, closed: true })
    expect(pool.metrics().connectionsCreated).toBe(pool.metrics().connectionsClosed)
  })

  test('after close(), upkeep does not reopen minConnections', async () => {
    const pool = openPool(backend, { minConnections: 2, idleTimeoutMs: 100, healthCheckIntervalMs: 50 })
    await pool.query('SELECT 1 AS x')
    await waitFor(() => pool.status().size === 2, 3000, 'minConnections')
    await pool.close()
    const created = pool.metrics().connectionsCreated
    await sleep(500)
    expect(pool.status().size).toBe(0)
    expect(pool.metrics().connectionsCreated).toBe(created)
  })
})
