'use strict'
// Stale connection cleanup: idle connections above minConnections are closed
// after idleTimeoutMs (status().size falls to minConnections, counted in
// connectionsReaped), connections are recycled after maxLifetimeMs (queries
// keep working), reapIdleConnections() closes expired idle connections at
// once and returns how many, and a connection that died while idle is
// replaced instead of failing the next caller.
const { backends, openPool, slowSql, sleep, waitFor } = require('./helpers')

/** Runs `n` slow statements at once, so that `n` connections are open. */
async function openConnections(pool, backendName, n, seconds = 0.2) {
  await Promise.all(Array.from({ length: n }, () => pool.query(slowSql(backendName, seconds))))
}

describe.each(backends())('reaping on $name', (backend) => {
  let pool
  afterEach(async () => {
    if (pool) await pool.close()
    pool = undefined
  })

  test('idleTimeoutMs 300, minConnections 1: 4 open connections fall back to 1, counted as reaped', async () => {
    pool = openPool(backend, { idleTimeoutMs: 300, minConnections: 1, maxConnections: 5 })
    await openConnections(pool, backend.name, 4)
    // All four were open at once. (Under load the first to finish may
    // already be reaped by the time the last one does.)
    expect(pool.metrics().connectionsCreated).toBe(4)
    expect(pool.status().inUse).toBe(0)

    await waitFor(() => pool.status().size === 1, 5000, 'size to fall to minConnections')
    expect(pool.status()).toMatchObject({ size: 1, idle: 1, inUse: 0 })
    const m = pool.metrics()
    expect(m.connectionsReaped).toBe(3)
    expect(m.connectionsClosed).toBe(3)

    // Never below minConnections, however long it stays idle.
    await sleep(800)
    expect(pool.status().size).toBe(1)
    expect(pool.metrics().connectionsReaped).toBe(3)
    // And the pool still serves.
    expect(await pool.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
  })

  test('minConnections 0: every idle connection is eventually closed', async () => {
    pool = openPool(backend, { idleTimeoutMs: 200, minConnections: 0 })
    await openConnections(pool, backend.name, 2, 0.1)
    expect(pool.metrics().connectionsCreated).toBe(2)
    await waitFor(() => pool.status().size === 0, 5000, 'size to fall to 0')
    expect(pool.metrics().connectionsReaped).toBe(2)
    expect(await pool.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
    expect(pool.metrics().connectionsCreated).toBe(3)
  })

  test('minConnections are opened and kept warm after first use', async () => {
    pool = openPool(backend, { idleTimeoutMs: 200, minConnections: 2, maxConnections: 4 })
    await pool.query('SELECT 1 AS x')
    await waitFor(() => pool.status().size === 2, 5000, 'minConnections to be open')
    await sleep(600)
    expect(pool.status()).toMatchObject({ size: 2, idle: 2 })
    expect(pool.metrics().connectionsReaped).toBe(0)
  })

  test('a connection in use is never reaped, however long it is held', async () => {
    pool = openPool(backend, { idleTimeoutMs: 150, minConnections: 0 })
    const tx = await pool.begin()
    await sleep(600)
    expect(pool.status()).toMatchObject({ size: 1, inUse: 1 })
    expect(await tx.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
    await tx.commit()
    expect(pool.metrics().connectionsReaped).toBe(0)
  })

  test('maxLifetimeMs: connections are recycled (closed and replaced) while queries keep succeeding', async () => {
    pool = openPool(backend, { maxLifetimeMs: 250, maxConnections: 2 })
    const pids = new Set()
    const pidSql = backend.name === 'postgres' ? 'SELECT pg_backend_pid() AS id' : backend.name === 'mysql' ? 'SELECT CONNECTION_ID() AS id' : null
    const until = Date.now() + 1500
    let ok = 0
    while (Date.now() < until) {
      if (pidSql) pids.add(String((await pool.queryOne(pidSql)).id))
      else expect(await pool.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
      ok += 1
      await sleep(40)
    }
    expect(ok).toBeGreaterThan(10)
    const m = pool.metrics()
    expect(m.connectionsClosed).toBeGreaterThanOrEqual(2)
    expect(m.connectionsCreated).toBeGreaterThanOrEqual(3)
    expect(m.connectionsReaped).toBeGreaterThanOrEqual(1)
    expect(m.errorsTotal).toBe(0)
    if (pidSql) expect(pids.size).toBeGreaterThanOrEqual(3)
    expect(pool.status().size).toBeLessThanOrEqual(2)
  })

  test('reapIdleConnections(): closes expired idle connections at once, returns the count, respects minConnections', async () => {
    // Upkeep runs every idleTimeoutMs/4; the test releases connections half
    // way between two upkeep rounds and calls reapIdleConnections() right
    // after they expire, before upkeep can. A round that lands too close to
    // an upkeep tick is discarded and tried again.
    const IDLE = 2000
    const PERIOD = IDLE / 4
    let done = false
    for (let attempt = 0; attempt < 3 && !done; attempt++) {
      const t0 = Date.now()
      pool = openPool(backend, { idleTimeoutMs: IDLE, minConnections: 1, maxConnections: 5 })
      expect(pool.reapIdleConnections()).toBe(0) // nothing open yet
      // Wait for the middle of an upkeep period.
      const k = Math.ceil((Date.now() - t0 + 50) / PERIOD)
      await sleep(Math.max(0, t0 + k * PERIOD + PERIOD / 2 - Date.now()))
      const started = Date.now()
      const finished = await Promise.all([0, 1, 2].map(() => pool.query('SELECT 1 AS x').then(() => Date.now())))
      const s = pool.status()
      if (s.size !== 3) {
        // The three queries shared connections: try again.
        await pool.close()
        continue
      }
      const releasedFirst = Math.min(...finished)
      const releasedLast = Math.max(...finished)

      // Half way through the idle timeout: nothing has expired.
      await sleep(Math.max(0, releasedLast + IDLE / 2 - Date.now()))
      expect(pool.reapIdleConnections()).toBe(0)
      expect(pool.status().size).toBe(3)

      const callAt = releasedLast + IDLE + 30
      const ticks = Array.from({ length: 40 }, (_, i) => t0 + i * PERIOD)
      const clash = ticks.some((t) => t >= started + IDLE - 60 && t <= callAt + 60)
      await sleep(Math.max(0, callAt - Date.now()))
      if (clash || releasedFirst - started > 150 || pool.status().size !== 3) {
        await pool.close()
        continue
      }
      const reapedBefore = pool.metrics().connectionsReaped
      const n = pool.reapIdleConnections()
      expect(n).toBe(2) // 3 open, minConnections 1
      // Closed at once: status() already shows it, and the metrics count it.
      expect(pool.status()).toMatchObject({ size: 1, idle: 1 })
      expect(pool.metrics().connectionsReaped - reapedBefore).toBe(2)
      expect(pool.reapIdleConnections()).toBe(0)
      expect(await pool.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
      done = true
    }
    expect(done).toBe(true)
  })

  if (backend.name !== 'sqlite') {
    test('a connection killed by the server while idle is replaced: the next query succeeds', async () => {
      pool = openPool(backend, { maxConnections: 1 })
      const killer = openPool(backend, { maxConnections: 1 })
      try {
        const pidSql = backend.name === 'postgres' ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id'
        const first = (await pool.queryOne(pidSql)).id
        const created = pool.metrics().connectionsCreated
        if (backend.name === 'postgres') await killer.query('SELECT pg_terminate_backend(CAST(? AS integer))', [first])
        else await killer.execute(`KILL ${Number(first)}`)
        // Idle for longer than the pool's validation threshold.
        await sleep(1300)
        const second = (await pool.queryOne(pidSql)).id
        expect(String(second)).not.toBe(String(first))
        const m = pool.metrics()
        expect(m.connectionsCreated).toBe(created + 1)
        expect(m.connectionsClosed).toBeGreaterThanOrEqual(1)
        expect(pool.status()).toMatchObject({ size: 1, inUse: 0 })
      } finally {
        await killer.close()
      }
    })
  }
})
