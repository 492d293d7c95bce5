'use strict'
// Pool behaviour: many concurrent callers through a small pool all succeed,
// and the pool never opens more than maxConnections.
const { Pool, backends, openPool } = require('./helpers')

const MAX = 5
const CALLERS = 200

/** One short query per caller; on servers it sleeps a little so callers really queue. */
function sqlFor(backendName) {
  if (backendName === 'postgres') return 'SELECT ? AS i FROM pg_sleep(0.01)'
  if (backendName === 'mysql') return 'SELECT ? AS i, SLEEP(0.01) AS z'
  return 'SELECT ? AS i'
}

describe.each(backends())('pool concurrency on $name', (backend) => {
  test(`${CALLERS} concurrent queries through maxConnections ${MAX} all succeed; size never above ${MAX}`, async () => {
    const appName = `sdp-conc-${process.pid}-${Date.now()}`
    const options = { maxConnections: MAX, acquireTimeoutMs: 30000 }
    if (backend.name === 'postgres') options.applicationName = appName
    const pool = openPool(backend, options)
    const observer = backend.name === 'postgres' ? new Pool({ url: backend.url(), maxConnections: 1 }) : null
    const samples = []
    const serverCounts = []
    let running = true
    const sample = () => samples.push(pool.status())
    const sampler = setInterval(sample, 1)
    const watchServer = (async () => {
      while (observer && running) {
        const row = await observer.queryOne('SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE application_name = ?', [appName])
        serverCounts.push(row.n)
      }
    })()
    try {
      // Warm up first: a fresh SQLite file's first concurrent connects are
      // a separate concern (sqlite-concurrency.test.js).
      await pool.connect()
      const sql = sqlFor(backend.name)
      const results = await Promise.allSettled(
        Array.from({ length: CALLERS }, async (_, i) => {
          const row = await pool.queryOne(sql, [i])
          sample()
          return row.i
        }),
      )
      running = false
      await watchServer
      const rejected = results.filter((r) => r.status === 'rejected').map((r) => `${r.reason.code}: ${r.reason.message}`)
      expect(rejected).toEqual([])
      expect(results.map((r) => r.value)).toEqual(Array.from({ length: CALLERS }, (_, i) => i))

      expect(samples.length).toBeGreaterThan(0)
      const maxSize = Math.max(...samples.map((s) => s.size))
      const maxInUse = Math.max(...samples.map((s) => s.inUse))
      expect(maxSize).toBeLessThanOrEqual(MAX)
      expect(maxInUse).toBeLessThanOrEqual(MAX)
      for (const s of samples) {
        expect(s.maxConnections).toBe(MAX)
        expect(s.idle + s.inUse).toBeLessThanOrEqual(MAX)
      }
      if (backend.name !== 'sqlite') {
        // Every caller sleeps, so callers must have queued and the pool filled up.
        expect(Math.max(...samples.map((s) => s.waiting))).toBeGreaterThan(0)
        expect(maxSize).toBe(MAX)
      }
      if (observer) {
        expect(serverCounts.length).toBeGreaterThan(0)
        expect(Math.max(...serverCounts)).toBeLessThanOrEqual(MAX)
      }

      const after = pool.status()
      expect(after.inUse).toBe(0)
      expect(after.waiting).toBe(0)
      expect(after.size).toBeLessThanOrEqual(MAX)
    } finally {
      running = false
      clearInterval(sampler)
      await watchServer.catch(() => {})
      await pool.close()
      if (observer) await observer.close()
    }
  })
})
