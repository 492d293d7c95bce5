'use strict'
// Leak detection: a transaction open longer than leakDetectionMs produces
// exactly one process warning (code DB_POOL_LEAK) whose stack names the code
// that called begin(), and metrics().leaksDetected counts it; a transaction
// finished in time produces nothing; with leakDetectionMs off, nothing.
const { backends, openPool, sleep, waitFor, runNode, lastJson } = require('./helpers')

const LIMIT = 100
// Jest gives each test file its own `process` object; warnings are emitted
// on Node's real one, so listen there.
const nodeProcess = require('node:vm').runInThisContext('process')

describe.each(backends())('leak detection on $name', (backend) => {
  let pool
  let warnings
  const onWarning = (w) => warnings.push(w)

  beforeEach(() => {
    warnings = []
    nodeProcess.on('warning', onWarning)
  })
  afterEach(async () => {
    nodeProcess.off('warning', onWarning)
    if (pool) await pool.close()
    pool = undefined
  })

  const leaks = () => warnings.filter((w) => w && w.code === 'DB_POOL_LEAK')

  test('a transaction left open: exactly one DB_POOL_LEAK warning carrying the caller\'s stack; leaksDetected 1', async () => {
    pool = openPool(backend, { leakDetectionMs: LIMIT })
    async function openLeakyTransactionInLeakTest() {
      return pool.begin()
    }
    const tx = await openLeakyTransactionInLeakTest()
    try {
      await waitFor(() => leaks().length >= 1, 3000, 'a DB_POOL_LEAK warning')
      await waitFor(() => pool.metrics().leaksDetected >= 1, 3000, 'leaksDetected')
      // Several more periods: still exactly one warning, one leak.
      await sleep(LIMIT * 5)
      expect(leaks()).toHaveLength(1)
      const [w] = leaks()
      expect(require('node:util').types.isNativeError(w)).toBe(true)
      expect(w.code).toBe('DB_POOL_LEAK')
      // The opener's stack is the warning's stack, or (when the package runs
      // in another realm, as under Jest) its `detail`.
      const opener = `${w.stack}\n${w.detail || ''}`
      expect(opener).toContain('openLeakyTransactionInLeakTest')
      expect(opener).toContain(__filename)
      expect(w.message).toMatch(/transaction/i)
      expect(pool.metrics().leaksDetected).toBe(1)
      // The transaction is still usable: the warning is only a warning.
      expect(await tx.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
    } finally {
      await tx.rollback()
    }
    await sleep(LIMIT * 2)
    expect(leaks()).toHaveLength(1)
    expect(pool.metrics().leaksDetected).toBe(1)
  })

  test('pool.transaction(fn) that overstays: the warning names the function that called transaction()', async () => {
    pool = openPool(backend, { leakDetectionMs: LIMIT })
    async function runSlowUnitOfWorkInLeakTest() {
      return pool.transaction(async (tx) => {
        await sleep(LIMIT * 4)
        return tx.queryOne('SELECT 2 AS x')
      })
    }
    expect(await runSlowUnitOfWorkInLeakTest()).toEqual({ x: 2 })
    await waitFor(() => leaks().length >= 1, 2000, 'a DB_POOL_LEAK warning')
    expect(leaks()).toHaveLength(1)
    expect(`${leaks()[0].stack}\n${leaks()[0].detail || ''}`).toContain('runSlowUnitOfWorkInLeakTest')
    expect(pool.metrics().leaksDetected).toBe(1)
  })

  test('a transaction committed in time: no warning, leaksDetected 0', async () => {
    pool = openPool(backend, { leakDetectionMs: LIMIT })
    const tx = await pool.begin()
    await tx.queryOne('SELECT 1 AS x')
    await tx.commit()
    const tx2 = await pool.begin()
    await tx2.rollback()
    await pool.transaction(async (t) => t.queryOne('SELECT 1 AS x'))
    await sleep(LIMIT * 4)
    expect(leaks()).toHaveLength(0)
    expect(pool.metrics().leaksDetected).toBe(0)
  })

  test('two leaked transactions: two warnings, each with its own caller, leaksDetected 2', async () => {
    // SQLite takes the write lock in begin(): a second concurrent begin()
    // would wait for the first; use one after the other there.
    pool = openPool(backend, { leakDetectionMs: LIMIT, maxConnections: 2 })
    async function firstLeakInLeakTest() {
      return pool.begin()
    }
    async function secondLeakInLeakTest() {
      return pool.begin()
    }
    const open = []
    try {
      open.push(await firstLeakInLeakTest())
      await waitFor(() => leaks().length >= 1, 2000, 'first warning')
      if (backend.name === 'sqlite') await open[0].rollback()
      open.push(await secondLeakInLeakTest())
      await waitFor(() => leaks().length >= 2, 2000, 'second warning')
      await sleep(LIMIT * 3)
    } finally {
      for (const tx of open) if (!tx.finished) await tx.rollback()
    }
    expect(leaks()).toHaveLength(2)
    expect(`${leaks()[0].stack}\n${leaks()[0].detail || ''}`).toContain('firstLeakInLeakTest')
    expect(`${leaks()[1].stack}\n${leaks()[1].detail || ''}`).toContain('secondLeakInLeakTest')
    expect(pool.metrics().leaksDetected).toBe(2)
  })

  test('leakDetectionMs off (default): no warning and no count, however long it stays open', async () => {
    pool = openPool(backend)
    const tx = await pool.begin()
    await sleep(400)
    await tx.rollback()
    expect(leaks()).toHaveLength(0)
    expect(pool.metrics().leaksDetected).toBe(0)
  })
})

// The same contract in a plain Node process (no Jest vm realm in between):
// what an application sees.
describe('leak detection in a plain Node process', () => {
  const script = `
    const { Pool } = require(${JSON.stringify(require.resolve('../lib/index.js'))})
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
    const warnings = []
    process.on('warning', (w) => warnings.push({ code: w.code, name: w.name, isError: w instanceof Error, stack: String(w.stack) }))
    ;(async () => {
      const out = {}
      for (const url of JSON.parse(process.env.SDP_URLS)) {
        warnings.length = 0
        const pool = new Pool({ url, leakDetectionMs: 100 })
        async function openTransactionAndForgetIt() { return pool.begin() }
        const tx = await openTransactionAndForgetIt()
        await sleep(700)
        const leaked = { warnings: warnings.filter((w) => w.code === 'DB_POOL_LEAK'), leaksDetected: pool.metrics().leaksDetected }
        await tx.rollback()
        warnings.length = 0
        const ok = await pool.begin()
        await ok.commit()
        await sleep(300)
        const inTime = { warnings: warnings.filter((w) => w.code === 'DB_POOL_LEAK').length, leaksDetected: pool.metrics().leaksDetected }
        await pool.close()
        out[pool.backend] = { leaked, inTime }
      }
      console.log(JSON.stringify(out))
    })().catch((e) => { console.error(e); process.exit(1) })
  `

  test('one DB_POOL_LEAK warning (an Error) with the caller in its stack; nothing for a transaction finished in time', async () => {
    const urls = backends().map((b) => b.url())
    const r = await runNode(script, { env: { SDP_URLS: JSON.stringify(urls) }, timeoutMs: 30000 })
    expect(r.stderr.includes('TypeError')).toBe(false)
    expect(r.code).toBe(0)
    const out = lastJson(r.stdout)
    for (const b of backends()) {
      const { leaked, inTime } = out[b.name]
      expect([b.name, leaked.warnings.length]).toEqual([b.name, 1])
      expect(leaked.warnings[0].isError).toBe(true)
      expect(leaked.warnings[0].stack).toContain('openTransactionAndForgetIt')
      expect(leaked.leaksDetected).toBe(1)
      expect(inTime).toEqual({ warnings: 0, leaksDetected: 1 })
    }
  })
})
