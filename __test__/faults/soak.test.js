'use strict'
// Fault 9: soak. 1,000,000 statements through one pool (SQLite file,
// maxConnections 4, 64 callers at a time) with 1% failing statements mixed
// in (syntax error, missing table, unique violation, wrong param count).
// What must hold: every statement settles with its expected outcome; RSS
// after GC grows by less than 20 MB between the early sample (after 100k)
// and the last one; inUse back to 0; size never above max (status() sampled
// every 10 ms).
//
// Runs in a child with --expose-gc, and with V8's young generation pinned
// (--min/--max-semi-space-size=16): V8 otherwise grows its semi-spaces from
// 1 to 16 MB under this allocation rate (heapTotal 13 → 38 MB with
// heapUsed flat at 3 MB), which would show up as RSS growth that is not the
// pool's. Native memory (RSS − V8 heap) is checked separately too.
// 1,000,000 statements take about 25–40 s on a 2-core box; SOAK_QUERIES
// overrides the count.
const path = require('node:path')
const H = require('./harness')

const scan = H.installSecretScan('soak')
const RUNNER = path.join(__dirname, 'fixtures', 'soak-runner.js')
const TOTAL = Number(process.env.SOAK_QUERIES || 1_000_000)
const MB = 1024 * 1024

test(`${TOTAL.toLocaleString('en-US')} statements with 1% failing: RSS flat after GC (< 20 MB), inUse back to 0, size never above max`, async () => {
  const r = await H.run(
    process.execPath,
    ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16', RUNNER],
    { timeoutMs: 600000, env: { SDP_URL: H.sqliteUrl('soak'), SOAK_QUERIES: String(TOTAL) } },
  )
  scan.record('soak stderr', r.stderr)
  const out = H.lastJson(r.stdout)
  scan.record('soak report', JSON.stringify(out))
  // A hang is reported by the runner's watchdog (what was outstanding).
  expect(out.stalled).toBeUndefined()
  expect(r.stderr).toBe('')
  expect({ code: r.code, signal: r.signal || null }).toEqual({ code: 0, signal: null })
  expect(out.crashed).toBeUndefined()

  // Every statement settled with its expected outcome: exactly 1% failed, coded.
  expect(out.unexpected).toEqual([])
  expect(out.ok).toBe(TOTAL - TOTAL / 100)
  expect(out.failures).toEqual({ QUERY_FAILED: (TOTAL / 100) * 0.75, INVALID_ARGUMENT: (TOTAL / 100) * 0.25 })
  expect(out.errorsByCode).toEqual(out.failures)

  // Size never above max; nothing lent at the end (nor between chunks).
  expect(out.sampled.samples).toBeGreaterThan(10)
  expect(out.sampled.overMax).toBe(0)
  expect(out.sampled.maxSize).toBeLessThanOrEqual(out.max)
  expect(out.status).toMatchObject({ inUse: 0, waiting: 0 })
  expect(out.rss.map((s) => s.inUse)).toEqual(out.rss.map(() => 0))

  // RSS after GC: early sample (after 100k, warmed up) vs the last one.
  const early = out.rss.find((s) => s.after >= Math.min(100_000, TOTAL / 10)) || out.rss[0]
  const late = out.rss[out.rss.length - 1]
  const growth = late.rss - early.rss
  const nativeGrowth = late.rss - late.heapTotal - (early.rss - early.heapTotal)
  H.report({
    fault: `soak: ${TOTAL} statements, 1% failing`,
    elapsedMs: out.elapsedMs,
    rssEarlyMB: +(early.rss / MB).toFixed(1),
    rssLateMB: +(late.rss / MB).toFixed(1),
    rssGrowthMB: +(growth / MB).toFixed(2),
    nativeGrowthMB: +(nativeGrowth / MB).toFixed(2),
    maxSize: out.sampled.maxSize,
    maxInUse: out.sampled.maxInUse,
  })
  expect(growth).toBeLessThan(20 * MB)
  expect(nativeGrowth).toBeLessThan(20 * MB)
  // The JS heap itself holds nothing over time.
  expect(late.heapUsed - early.heapUsed).toBeLessThan(5 * MB)
}, 660000)
