'use strict'
// installShutdownHooks(): a real child process gets SIGTERM in the middle
// of 200 inserts into a SQLite file and must exit 0 with every insert it
// acknowledged on disk and the file intact; the hooks never add a second
// listener (twice, or from a reloaded module); the shutdown is bounded by
// timeoutMs; exit: false closes without exiting.
const { spawn } = require('node:child_process')
const path = require('node:path')
const { Pool, sqliteUrl, expectThrowsDbError } = require('./helpers.js')

const CHILD = path.join(__dirname, 'fixtures', 'shutdown-child.js')

/**
 * Starts the child; `onLine(line, child)` sees each stdout line as it comes.
 * Resolves with { code, signal, lines, stderr, ms } (ms: from `markAt` to exit).
 */
function runChild(args, onLine, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines = []
    let pending = ''
    let stderr = ''
    const state = { markAt: null }
    const guard = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child did not exit within ${timeoutMs} ms; stdout: ${lines.join(' | ')}; stderr: ${stderr}`))
    }, timeoutMs)
    child.stdout.on('data', (chunk) => {
      pending += chunk
      let i
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i)
        pending = pending.slice(i + 1)
        lines.push(line)
        onLine(line, child, state)
      }
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, lines, stderr, ms: state.markAt === null ? null : Date.now() - state.markAt })
    })
  })
}

test('SIGTERM in the middle of 200 inserts: exit 0, every acknowledged insert on disk, integrity_check ok', async () => {
  const url = sqliteUrl('shutdown')
  let acks = 0
  let sent = false
  const result = await runChild(['inserts', url], (line, child, state) => {
    if (line.startsWith('ack ')) acks += 1
    if (!sent && acks >= 40) {
      sent = true
      state.markAt = Date.now()
      child.kill('SIGTERM')
    }
  })
  expect(result.stderr).toBe('')
  expect(result.signal).toBeNull()
  expect(result.code).toBe(0)

  const lines = result.lines
  // Two installs, one listener for each signal.
  expect(lines[0]).toBe('listeners 0 1 1')
  // The hooks ended the process: after its loop the child holds a 120 s
  // timer, and runChild rejects if it is still alive after 60 s. Its loop may
  // have finished first ('all-done'): refused ids go fast while close() waits.
  const signalAt = lines.indexOf('sigterm')
  expect(signalAt).toBeGreaterThan(0)
  const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)))
  const rejected = lines.filter((l) => l.startsWith('reject '))
  // Nothing failed before the signal; afterwards new work is refused with POOL_CLOSED.
  expect(lines.slice(0, signalAt).filter((l) => l.startsWith('reject '))).toEqual([])
  for (const line of rejected) expect(line).toMatch(/^reject \d+ POOL_CLOSED$/)
  // A call made once close() began was refused (the workers' own refusals
  // depend on timing: all four may be mid-transaction when the exit comes).
  expect(lines).toContain('late POOL_CLOSED')
  // Mid-way: the signal stopped the run.
  expect(acked.length).toBeGreaterThanOrEqual(40)
  expect(acked.length).toBeLessThan(200)
  // Transactions in flight when the signal came were let finish.
  expect(lines.slice(signalAt).filter((l) => l.startsWith('ack ')).length).toBeGreaterThan(0)

  const pool = new Pool({ url })
  try {
    const rows = await pool.query('SELECT id FROM items ORDER BY id')
    const present = new Set(rows.map((r) => r.id))
    for (const id of acked) expect(present.has(id)).toBe(true)
    // Nothing that was refused got in, and no row is half-written.
    const refusedIds = rejected.map((l) => Number(l.split(' ')[1]))
    for (const id of refusedIds) expect(present.has(id)).toBe(false)
    const bad = await pool.queryOne('SELECT count(*) AS n FROM items WHERE length(payload) <> 2000')
    expect(bad.n).toBe(0)
    await expect(pool.queryOne('PRAGMA integrity_check')).resolves.toEqual({ integrity_check: 'ok' })
  } finally {
    await pool.close()
  }
}, 90_000)

test('the shutdown is bounded by timeoutMs: a statement that will not finish is abandoned, exit 1', async () => {
  const timeoutMs = 800
  const result = await runChild(['slow', sqliteUrl('slow'), String(timeoutMs)], (line, child, state) => {
    if (line === 'ready') {
      state.markAt = Date.now()
      child.kill('SIGTERM')
    }
  })
  expect(result.signal).toBeNull()
  expect(result.code).toBe(1)
  expect(result.stderr).toMatch(/SIGTERM: 1 statement\(s\) still running after 800 ms/)
  expect(result.lines).not.toContain('slow-done')
  expect(result.ms).toBeLessThan(timeoutMs + 1000)
}, 60_000)

test('a second signal during the shutdown exits (code 1) at once', async () => {
  let sent = 0
  const result = await runChild(['slow', sqliteUrl('twice'), '20000'], (line, child, state) => {
    if (line === 'ready') {
      state.markAt = Date.now()
      child.kill('SIGTERM')
      sent += 1
      setTimeout(() => {
        child.kill('SIGINT')
        sent += 1
      }, 300)
    }
  })
  expect(sent).toBe(2)
  expect(result.signal).toBeNull()
  expect(result.code).toBe(1)
  expect(result.ms).toBeGreaterThanOrEqual(250)
  expect(result.ms).toBeLessThan(5000)
}, 60_000)

test('exit: false closes the pool on the signal and leaves the process running', async () => {
  const result = await runChild(['noexit', sqliteUrl('noexit')], (line, child) => {
    if (line === 'ready') child.kill('SIGTERM')
  })
  expect(result.signal).toBeNull()
  expect(result.code).toBe(7)
  expect(result.lines).toContain('after closed=true query=POOL_CLOSED')
}, 60_000)

test('what the app wrote to stdout before the exit reaches the reader, even one that reads slowly', async () => {
  const result = await runChild(['logs', sqliteUrl('logs')], (line, child) => {
    if (line === 'ready') {
      child.kill('SIGTERM')
      // A log collector that falls behind: the pipe fills and the child's
      // writes queue inside Node, where process.exit() would drop them.
      child.stdout.pause()
      setTimeout(() => child.stdout.resume(), 500)
    }
  })
  expect(result.signal).toBeNull()
  expect(result.code).toBe(0)
  expect(result.lines.filter((l) => l.startsWith('log ')).length).toBe(2000)
  expect(result.lines[result.lines.length - 1]).toBe('log-end')
}, 60_000)

describe('in this process', () => {
  const pools = []
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()))
  })

  test('installing twice, and again from a reloaded module, adds one listener per signal; uninstall removes it', () => {
    const { installShutdownHooks } = require('../lib/index.js')
    const pool = new Pool({ url: sqliteUrl('hooks') })
    pools.push(pool)
    const base = { SIGTERM: process.listenerCount('SIGTERM'), SIGINT: process.listenerCount('SIGINT') }
    const uninstall = installShutdownHooks(pool, { exit: false })
    installShutdownHooks(pool, { exit: false })
    expect(process.listenerCount('SIGTERM')).toBe(base.SIGTERM + 1)
    expect(process.listenerCount('SIGINT')).toBe(base.SIGINT + 1)

    // A dev server reloads the module: the registry on globalThis is reused.
    jest.resetModules()
    const reloaded = require('../lib/index.js')
    expect(reloaded.installShutdownHooks).not.toBe(installShutdownHooks)
    const other = new Pool({ url: sqliteUrl('hooks2') })
    pools.push(other)
    const uninstallOther = reloaded.installShutdownHooks(other, { exit: false })
    reloaded.installShutdownHooks(pool, { exit: false })
    expect(process.listenerCount('SIGTERM')).toBe(base.SIGTERM + 1)
    expect(process.listenerCount('SIGINT')).toBe(base.SIGINT + 1)

    // One pool asks for SIGHUP too: one more listener, for SIGHUP only.
    const baseHup = process.listenerCount('SIGHUP')
    reloaded.installShutdownHooks(other, { signals: ['SIGTERM', 'SIGHUP'], exit: false })
    expect(process.listenerCount('SIGHUP')).toBe(baseHup + 1)
    expect(process.listenerCount('SIGTERM')).toBe(base.SIGTERM + 1)

    uninstallOther()
    expect(process.listenerCount('SIGHUP')).toBe(baseHup)
    expect(process.listenerCount('SIGTERM')).toBe(base.SIGTERM + 1)
    uninstall()
    uninstall()
    expect(process.listenerCount('SIGTERM')).toBe(base.SIGTERM)
    expect(process.listenerCount('SIGINT')).toBe(base.SIGINT)
  })

  test('bad arguments throw INVALID_ARGUMENT and install nothing', () => {
    const { installShutdownHooks } = require('../lib/index.js')
    const pool = new Pool({ url: sqliteUrl('hooks-bad') })
    pools.push(pool)
    const before = process.listenerCount('SIGTERM')
    expectThrowsDbError(() => installShutdownHooks(undefined), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => installShutdownHooks(pool, { signals: 'SIGTERM' }), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => installShutdownHooks(pool, { signals: ['TERM'] }), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => installShutdownHooks(pool, { signals: ['SIGTERM', 'SIGKILL'] }), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => installShutdownHooks(pool, { timeoutMs: -1 }), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => installShutdownHooks(pool, { exit: 'yes' }), 'INVALID_ARGUMENT')
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })
})
