'use strict'
// prometheus(): text exposition that a real parser from npm accepts
// (parse-prometheus-text-format), with HELP and TYPE for every family,
// counters ending in _total, histograms with _bucket (le="+Inf" equal to
// _count), _sum and _count in seconds, names prefixed db_pool_, every sample
// labelled with the backend, and values equal to metrics().
const parsePrometheus = require('parse-prometheus-text-format')
const { backends, openPool, expectDbError, slowSql } = require('./helpers')

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const KINDS = ['COUNTER', 'GAUGE', 'HISTOGRAM', 'SUMMARY', 'UNTYPED']

/**
 * Every sample as { name, labels, value }, through the same parser: with
 * the TYPE lines removed each series is its own untyped family, so the
 * parser keeps all labels (its histogram view drops the labels of
 * _sum/_count when there are others than `le`).
 */
function samples(text) {
  const untyped = text
    .split('\n')
    .filter((l) => !l.startsWith('# TYPE '))
    .join('\n')
  const out = []
  for (const family of parsePrometheus(untyped)) {
    for (const m of family.metrics) out.push({ name: family.name, labels: m.labels || {}, value: Number(m.value) })
  }
  return out
}

function find(all, name, labels = {}) {
  const hits = all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (hits.length !== 1) throw new Error(`expected one sample ${name} ${JSON.stringify(labels)}, found ${hits.length}`)
  return hits[0].value
}

describe.each(backends())('prometheus() on $name', (backend) => {
  let pool
  afterEach(async () => {
    if (pool) await pool.close()
    pool = undefined
  })

  /** A pool with some of everything: queries, a refused statement, a timeout. */
  async function busyPool() {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 100 })
    await pool.query(slowSql(backend.name, 0.05))
    for (let i = 0; i < 9; i++) await pool.query('SELECT ? AS x', [i])
    await expectDbError(pool.query('SELEC nonsense'), 'QUERY_FAILED')
    const tx = await pool.begin()
    await expectDbError(pool.query('SELECT 1 AS x'), 'POOL_TIMEOUT')
    await tx.rollback()
    return pool
  }

  test('a real parser accepts it; every family has HELP and TYPE; names prefixed db_pool_; no family twice', async () => {
    await busyPool()
    const text = pool.prometheus()
    expect(typeof text).toBe('string')
    expect(text.endsWith('\n')).toBe(true)
    const families = parsePrometheus(text)
    expect(families.length).toBeGreaterThan(5)
    const names = families.map((f) => f.name)
    expect(new Set(names).size).toBe(names.length)
    for (const f of families) {
      expect(f.name).toMatch(METRIC_NAME)
      expect(f.name.startsWith('db_pool_')).toBe(true)
      expect(f.help.length).toBeGreaterThan(0)
      expect(KINDS).toContain(f.type)
      expect(f.type).not.toBe('UNTYPED') // every family declared its TYPE
      expect(f.metrics.length).toBeGreaterThan(0)
    }
    // Each HELP/TYPE line appears once and before the family's samples.
    const lines = text.split('\n')
    for (const name of names) {
      const help = lines.filter((l) => l.startsWith(`# HELP ${name} `))
      const type = lines.filter((l) => l.startsWith(`# TYPE ${name} `))
      expect([name, help.length, type.length]).toEqual([name, 1, 1])
      const series = [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
      const firstSample = lines.findIndex((l) => !l.startsWith('#') && series.includes(l.split(/[{ ]/)[0]))
      expect(firstSample).toBeGreaterThan(-1)
      expect(lines.indexOf(type[0])).toBeLessThan(firstSample)
    }
    // Every non-comment line is a well-formed sample with a numeric value.
    for (const s of samples(text)) {
      expect(s.name).toMatch(METRIC_NAME)
      for (const k of Object.keys(s.labels)) expect(k).toMatch(LABEL_NAME)
      expect(Number.isNaN(s.value)).toBe(false)
    }
  })

  test('counters end in _total; histograms are in seconds', async () => {
    await busyPool()
    const families = parsePrometheus(pool.prometheus())
    const counters = families.filter((f) => f.type === 'COUNTER')
    const histograms = families.filter((f) => f.type === 'HISTOGRAM')
    expect(counters.length).toBeGreaterThanOrEqual(5)
    expect(histograms.length).toBeGreaterThanOrEqual(3)
    for (const f of counters) expect(f.name).toMatch(/_total$/)
    for (const f of families) if (f.type !== 'COUNTER') expect(f.name).not.toMatch(/_total$/)
    for (const f of histograms) expect(f.name).toMatch(/_seconds$/)
  })

  test('every sample carries label backend="<backend>"', async () => {
    await busyPool()
    const all = samples(pool.prometheus())
    expect(all.length).toBeGreaterThan(20)
    for (const s of all) expect([s.name, s.labels.backend]).toEqual([s.name, backend.name])
  })

  test('histograms: _bucket series with ascending le, cumulative counts, le="+Inf" == _count; _sum in seconds', async () => {
    await busyPool()
    const text = pool.prometheus()
    const families = parsePrometheus(text)
    const all = samples(text)
    const m = pool.metrics()
    const bySummary = {
      db_pool_query_duration_seconds: m.queryTimeMs,
      db_pool_acquire_duration_seconds: m.acquireWaitMs,
      db_pool_connect_duration_seconds: m.connectTimeMs,
    }
    for (const f of families.filter((x) => x.type === 'HISTOGRAM')) {
      const buckets = all.filter((s) => s.name === `${f.name}_bucket`)
      expect(buckets.length).toBeGreaterThan(1)
      for (const b of buckets) expect(typeof b.labels.le).toBe('string')
      const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)))
      expect(les[les.length - 1]).toBe(Infinity)
      for (let i = 1; i < les.length; i++) {
        expect(Number.isNaN(les[i])).toBe(false)
        expect(les[i]).toBeGreaterThan(les[i - 1])
        expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value)
      }
      const count = find(all, `${f.name}_count`)
      const sum = find(all, `${f.name}_sum`)
      expect(find(all, `${f.name}_bucket`, { le: '+Inf' })).toBe(count)
      expect(sum).toBeGreaterThanOrEqual(0)
      const summary = bySummary[f.name]
      if (summary) {
        expect([f.name, count]).toEqual([f.name, summary.count])
        // _sum is seconds: avg (ms) × count / 1000.
        const expected = (summary.avg * summary.count) / 1000
        expect(Math.abs(sum - expected)).toBeLessThanOrEqual(Math.max(1e-6, expected * 1e-6))
        // ...and bounded by max (ms) × count.
        expect(sum).toBeLessThanOrEqual((summary.max * summary.count) / 1000 + 1e-9)
      }
    }
    expect(find(all, 'db_pool_query_duration_seconds_count')).toBeGreaterThan(0)
  })

  test('values match metrics() and status()', async () => {
    await busyPool()
    const all = samples(pool.prometheus())
    const m = pool.metrics()
    const s = pool.status()
    expect(find(all, 'db_pool_queries_total')).toBe(m.queriesTotal)
    expect(find(all, 'db_pool_queries_inline_total')).toBe(m.queriesInline)
    expect(find(all, 'db_pool_inline_overruns_total')).toBe(m.inlineOverruns)
    expect(find(all, 'db_pool_connections_created_total')).toBe(m.connectionsCreated)
    expect(find(all, 'db_pool_connections_closed_total')).toBe(m.connectionsClosed)
    expect(find(all, 'db_pool_connections_reaped_total')).toBe(m.connectionsReaped)
    expect(find(all, 'db_pool_acquire_timeouts_total')).toBe(m.acquireTimeouts)
    expect(find(all, 'db_pool_leaks_detected_total')).toBe(m.leaksDetected)
    expect(m.acquireTimeouts).toBeGreaterThanOrEqual(1)
    expect(m.queriesTotal).toBeGreaterThanOrEqual(12)
    // errors by code: each code in metrics() appears with its count, the others are 0.
    const errorSamples = all.filter((x) => x.name === 'db_pool_errors_total')
    expect(errorSamples.length).toBeGreaterThan(0)
    for (const e of errorSamples) expect(e.value).toBe(m.errorsByCode[e.labels.code] || 0)
    for (const [code, n] of Object.entries(m.errorsByCode)) expect(find(all, 'db_pool_errors_total', { code })).toBe(n)
    expect(errorSamples.reduce((a, e) => a + e.value, 0)).toBe(m.errorsTotal)
    expect(find(all, 'db_pool_errors_total', { code: 'QUERY_FAILED' })).toBe(1)
    // gauges
    expect(find(all, 'db_pool_connections')).toBe(s.size)
    expect(find(all, 'db_pool_waiting')).toBe(s.waiting)
    expect(find(all, 'db_pool_max_connections')).toBe(s.maxConnections)
    expect(find(all, 'db_pool_up')).toBe(1)
  })

  test('counters move with work between two scrapes: N queries → queries_total +N', async () => {
    pool = openPool(backend)
    await pool.query('SELECT 1 AS x')
    const first = find(samples(pool.prometheus()), 'db_pool_queries_total')
    for (let i = 0; i < 11; i++) await pool.query('SELECT 1 AS x')
    const second = samples(pool.prometheus())
    expect(find(second, 'db_pool_queries_total') - first).toBe(11)
    expect(find(second, 'db_pool_query_duration_seconds_count')).toBe(first + 11)
  })

  test('after close(): still parses, db_pool_up 0, no open connections', async () => {
    pool = openPool(backend)
    await pool.query('SELECT 1 AS x')
    await pool.close()
    const text = pool.prometheus()
    expect(() => parsePrometheus(text)).not.toThrow()
    const all = samples(text)
    expect(find(all, 'db_pool_up')).toBe(0)
    expect(find(all, 'db_pool_connections')).toBe(0)
    expect(find(all, 'db_pool_queries_total')).toBe(1)
  })
})
