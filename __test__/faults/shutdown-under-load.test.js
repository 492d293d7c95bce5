'use strict'
// Fault 5: graceful shutdown under load. A child process with
// installShutdownHooks does 1,000 units of writes (autocommit, transaction,
// batch; 16 at a time) and gets SIGTERM mid-way. What must hold: exit 0
// within the shutdown timeout; after reopening the database, every
// acknowledged write is there, whole (a transaction's update, a batch's
// pair row); nothing refused got in; no unit is half-applied. Runs on
// SQLite (a file) and on each server whose URL is set.
const path = require('node:path')
const { spawn } = require('node:child_process')
const H = require('./harness')

const scan = H.installSecretScan('shutdown-under-load')
const CHILD = path.join(__dirname, 'fixtures', 'shutdown-writer.js')
const TIMEOUT_MS = 10000
const SIGNAL_AFTER_ACKS = 300

/** Runs the writer; sends SIGTERM after SIGNAL_AFTER_ACKS acks. */
function runWriter(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    const lines = []
    let pending = ''
    let stderr = ''
    let acks = 0
    let signalAt = null
    const guard = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`writer did not exit; last lines: ${lines.slice(-5).join(' | ')}; stderr: ${stderr}`))
    }, 120000)
    child.stdout.on('data', (chunk) => {
      pending += chunk
      let i
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i)
        pending = pending.slice(i + 1)
        lines.push(line)
        if (line.startsWith('ack ')) acks += 1
        if (signalAt === null && acks >= SIGNAL_AFTER_ACKS) {
          signalAt = Date.now()
          child.kill('SIGTERM')
        }
      }
    })
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    // 'close', not 'exit': 'exit' can come before the last of the child's
    // stdout has been read, and the lines lost were the acks after SIGTERM.
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, lines, stderr, exitAfterSignalMs: signalAt === null ? null : Date.now() - signalAt })
    })
  })
}

describe.each(H.backends())('SIGTERM during 1,000 writes ($name)', (backend) => {
  let url
  let account = null
  let pool
  const table = H.tableName('shutdown_load')

  beforeAll(async () => {
    if (backend.name === 'postgres') url = await H.postgresUrl()
    else if (backend.name === 'mysql') {
      account = await H.mysqlAccount()
      url = account.url
    } else url = backend.url()
    pool = new H.Pool({ url })
    const T = H.q(backend.name, table)
    const text = backend.name === 'mysql' ? 'TEXT' : 'TEXT'
    await pool.execute(
      `CREATE TABLE ${T} (id BIGINT PRIMARY KEY, kind VARCHAR(20) NOT NULL, payload ${text} NOT NULL)${H.tableOptions(backend.name)}`,
    )
  }, 60000)

  afterAll(async () => {
    if (pool) {
      await H.dropTable(pool, table)
      await pool.close()
    }
    if (account) await account.drop()
  }, 60000)

  test('exit 0 within the shutdown timeout; every acknowledged write is there, whole; nothing refused got in', async () => {
    const r = await runWriter({ SDP_URL: url, SDP_TABLE: table, SDP_TIMEOUT_MS: String(TIMEOUT_MS) })
    scan.record('writer stdout', r.lines.filter((l) => !/^(ack|reject) /.test(l)).join('\n'))
    scan.record('writer stderr', r.stderr)
    expect(r.stderr).toBe('')
    expect(r.signal).toBeNull()
    expect(r.code).toBe(0)
    // Exited by itself after the drain: within the hooks' timeout (plus process teardown).
    expect(r.exitAfterSignalMs).not.toBeNull()
    expect(r.exitAfterSignalMs).toBeLessThan(TIMEOUT_MS + 2000)

    const { lines } = r
    expect(lines[0]).toBe('ready')
    const sigAt = lines.indexOf('sigterm')
    expect(sigAt).toBeGreaterThan(0)
    // The callers may run out of units (refused at once) before the drain ends.
    if (lines.includes('all-done')) expect(lines.indexOf('all-done')).toBeGreaterThan(sigAt)
    const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)))
    const rejected = lines.filter((l) => l.startsWith('reject ')).map((l) => l.split(' '))
    // Each unit settled once: acknowledged or refused, never both.
    const settledIds = [...acked, ...rejected.map((x) => Number(x[1]))]
    expect(new Set(settledIds).size).toBe(settledIds.length)
    // Mid-way: stopped well before the end.
    expect(acked.length).toBeGreaterThanOrEqual(SIGNAL_AFTER_ACKS)
    expect(acked.length).toBeLessThan(1000)
    // Nothing failed before the signal; afterwards only POOL_CLOSED.
    expect(lines.slice(0, sigAt).filter((l) => l.startsWith('reject '))).toEqual([])
    expect([...new Set(rejected.map((x) => x[2]))].filter((c) => c !== 'POOL_CLOSED')).toEqual([])
    // Work in flight at the signal was let finish.
    expect(lines.slice(sigAt).filter((l) => l.startsWith('ack ')).length).toBeGreaterThan(0)

    // Reopen (a new pool) and check every unit.
    const check = new H.Pool({ url })
    try {
      const T = H.q(backend.name, table)
      const rows = await check.query(`SELECT id, kind, payload FROM ${T}`)
      const byId = new Map(rows.map((row) => [Number(row.id), row]))
      const missing = []
      for (const k of acked) {
        const row = byId.get(k)
        const whole =
          row &&
          (k % 3 === 0
            ? row.kind === 'execute'
            : k % 3 === 1
              ? row.kind === 'transaction' && row.payload === 'tx'
              : row.kind === 'batch' && byId.has(k + 100000))
        if (!whole) missing.push(k)
      }
      expect(missing).toEqual([])
      // Refused units left nothing behind.
      const refused = rejected.map((x) => Number(x[1]))
      expect(refused.filter((k) => byId.has(k) || byId.has(k + 100000))).toEqual([])
      // No half-applied unit anywhere: every transaction row got its update,
      // every batch row has its pair and every pair its batch row.
      const partial = rows.filter(
        (row) =>
          (row.kind === 'transaction' && row.payload !== 'tx') ||
          (row.kind === 'batch' && !byId.has(Number(row.id) + 100000)) ||
          (row.kind === 'pair' && !byId.has(Number(row.id) - 100000)),
      )
      expect(partial.map((row) => Number(row.id))).toEqual([])
      // What is there was acknowledged, or was in flight at exit (at most 16 units).
      const ackedSet = new Set(acked)
      const unacked = rows.filter((row) => row.kind !== 'pair' && !ackedSet.has(Number(row.id)))
      expect(unacked.length).toBeLessThanOrEqual(16)
      if (backend.name === 'sqlite') await expect(check.queryOne('PRAGMA integrity_check')).resolves.toEqual({ integrity_check: 'ok' })
      H.report({
        fault: `${backend.name}: SIGTERM after ${SIGNAL_AFTER_ACKS} of 1,000 write units`,
        exitCode: r.code,
        exitAfterSignalMs: r.exitAfterSignalMs,
        acked: acked.length,
        refusedPoolClosed: rejected.length,
        ackedAfterSignal: lines.slice(sigAt).filter((l) => l.startsWith('ack ')).length,
        lostAcked: missing.length,
      })
    } finally {
      await check.close()
    }
  }, 150000)
})
