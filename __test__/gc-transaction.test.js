'use strict'
// An open Transaction that is garbage-collected is rolled back and its
// connection returned. Jest does not expose gc(), so a child
// `node --expose-gc` does the work on a one-connection pool and prints what
// it saw as JSON: inUse back to 0, a new query served without POOL_TIMEOUT,
// the row inserted by the forgotten transaction absent, and (with leak
// detection on) no leak reported for a transaction that was collected.
const { backends, runNode, lastJson } = require('./helpers')

const LIB = require.resolve('../lib/index.js')

const CHILD = `
  const { Pool } = require(${JSON.stringify(LIB)})
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
  const tick = () => new Promise((r) => setImmediate(r))
  const warnings = []
  process.on('warning', (w) => { if (w && w.code === 'DB_POOL_LEAK') warnings.push(String(w.stack)) })

  async function collectUntil(pred, ms) {
    const until = Date.now() + ms
    do {
      global.gc()
      await tick()
      await sleep(10)
      if (pred()) return true
    } while (Date.now() < until)
    return pred()
  }

  // Everything that refers to the transaction lives in this function's
  // frame and is gone when it returns.
  async function beginInsertAndForget(pool, table, id) {
    const tx = await pool.begin()
    await tx.execute('INSERT INTO ' + table + ' (id) VALUES (?)', [id])
    return pool.status().inUse
  }

  async function scenario(url, table, extra) {
    const pool = new Pool({ url, maxConnections: 1, acquireTimeoutMs: 500, ...extra })
    await pool.execute('DROP TABLE IF EXISTS ' + table)
    await pool.execute('CREATE TABLE ' + table + ' (id INTEGER NOT NULL)')
    const inUseWhileOpen = await beginInsertAndForget(pool, table, 42)
    const released = await collectUntil(() => pool.status().inUse === 0, 3000)
    const statusAfter = pool.status()
    let queryError = null
    let rows = null
    try {
      rows = await pool.query('SELECT COUNT(*) AS n FROM ' + table)
    } catch (e) { queryError = e.code || String(e) }
    // The connection can write again (SQLite: the write lock is free).
    let writeError = null
    try {
      await pool.execute('INSERT INTO ' + table + ' (id) VALUES (?)', [7])
    } catch (e) { writeError = e.code || String(e) }
    const after = await pool.query('SELECT id FROM ' + table + ' ORDER BY id')
    const metrics = pool.metrics()
    await pool.execute('DROP TABLE IF EXISTS ' + table)
    await pool.close({ timeoutMs: 2000 })
    return {
      inUseWhileOpen, released, statusAfter, queryError,
      count: rows ? Number(rows[0].n) : null,
      writeError, ids: after.map((r) => Number(r.id)),
      poolTimeouts: metrics.acquireTimeouts, leaksDetected: metrics.leaksDetected,
    }
  }

  ;(async () => {
    const out = {}
    for (const { name, url } of JSON.parse(process.env.SDP_BACKENDS)) {
      const table = 'gc_tx_' + process.pid + '_' + name
      out[name] = await scenario(url, table, {})
      // With leak detection on: collected in time is rolled back, not a leak.
      warnings.length = 0
      const withLeak = await scenario(url, table + '_l', { leakDetectionMs: 1500 })
      await sleep(1800)
      withLeak.leakWarnings = warnings.length
      out[name + '+leakDetection'] = withLeak
    }
    console.log(JSON.stringify(out))
  })().catch((e) => { console.error(e); process.exit(1) })
`

test('a garbage-collected open transaction is rolled back and its connection returned (node --expose-gc)', async () => {
  const list = backends().map((b) => ({ name: b.name, url: b.url() }))
  const r = await runNode(CHILD, {
    nodeArgs: ['--expose-gc'],
    env: { SDP_BACKENDS: JSON.stringify(list) },
    timeoutMs: 60000,
  })
  if (r.code !== 0) throw new Error(`child failed (code ${r.code}, killed ${r.killed}):\n${r.stderr}\n${r.stdout}`)
  const out = lastJson(r.stdout)
  for (const { name } of list) {
    for (const key of [name, `${name}+leakDetection`]) {
      const o = out[key]
      expect([key, o.inUseWhileOpen]).toEqual([key, 1])
      expect([key, o.released]).toEqual([key, true])
      expect([key, o.statusAfter.inUse, o.statusAfter.waiting]).toEqual([key, 0, 0])
      expect(o.statusAfter.size).toBeLessThanOrEqual(1)
      expect([key, o.queryError]).toEqual([key, null])
      expect([key, o.poolTimeouts]).toEqual([key, 0])
      // The forgotten INSERT was rolled back.
      expect([key, o.count]).toEqual([key, 0])
      expect([key, o.writeError]).toEqual([key, null])
      expect([key, o.ids]).toEqual([key, [7]])
    }
    const l = out[`${name}+leakDetection`]
    expect([name, l.leakWarnings, l.leaksDetected]).toEqual([name, 0, 0])
  }
})
