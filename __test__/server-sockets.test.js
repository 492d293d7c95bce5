'use strict'
// PostgreSQL and MySQL sockets are watched by the JS thread's own event loop
// (src/binding/js_reactor.rs): a reply wakes the JS thread, which reads it
// there, instead of a tokio worker reading it and waking the JS thread.
// These pin what that must keep true:
// - a pool in a worker thread works, and the worker ends cleanly however it
//   ends (Node aborts the process if a loop closes with a handle open);
// - a reply wakes the JS thread itself, and the code awaiting it resumes
//   as soon as it is read;
// - a JS thread that is busy for a while loses no reply;
// - nor is a reply that came in time counted late by a timer on tokio
//   that expires while JS is busy (the reactor's watchdog reads it);
// - callers queued for a connection get it, each with its own row, from
//   callers whose replies were read on the JS thread.
// (A process whose pool is idle exits by itself: background.test.js.)
const { backends, openPool, runNode, lastJson } = require('./helpers')

const LIB = require.resolve('../lib/index.js')
const servers = backends().filter((b) => b.name !== 'sqlite')

// A worker thread that runs 200 queries, 20 at a time, then ends the way
// `how` says: 'close' (closes the pool, returns), 'exit' (process.exit in
// the worker, pool open), 'terminate' (the parent terminates it while
// queries are in flight).
const WORKER_SCRIPT = `
  const { Worker } = require('node:worker_threads')
  const how = process.argv[1]
  const code = \`
    const { parentPort, workerData } = require('node:worker_threads')
    const { Pool } = require(\${JSON.stringify(${JSON.stringify(LIB)})})
    const pool = new Pool({ url: workerData.url, maxConnections: 4 })
    ;(async () => {
      let sum = 0
      let next = 0
      const run = async () => {
        while (next < 200) {
          const i = next++
          const row = await pool.queryOne('SELECT ? + 1 AS n', [i])
          sum += Number(row.n)
        }
      }
      if (workerData.how === 'terminate') {
        parentPort.postMessage({ started: true })
        for (;;) await Promise.all(Array.from({ length: 20 }, run).concat(pool.query('SELECT 1')))
      }
      await Promise.all(Array.from({ length: 20 }, run))
      parentPort.postMessage({ sum })
      if (workerData.how === 'close') await pool.close()
      if (workerData.how === 'exit') process.exit(0)
    })().catch((e) => { parentPort.postMessage({ error: String(e) }) })
  \`
  const worker = new Worker(code, { eval: true, workerData: { url: process.env.SDP_URL, how } })
  const seen = []
  worker.on('message', (m) => {
    seen.push(m)
    if (m.started) setTimeout(() => worker.terminate(), 200)
  })
  worker.on('error', (e) => seen.push({ error: String(e) }))
  worker.on('exit', (code) => {
    // The main thread carries on after the worker is gone.
    setTimeout(() => console.log(JSON.stringify({ seen, exitCode: code })), 50)
  })
`

const describeServers = servers.length > 0 ? describe.each(servers) : () => () => {}

describeServers('server sockets on the JS thread, $name', (backend) => {
  test.each(['close', 'exit', 'terminate'])(
    'a pool in a worker thread works, and the worker ends cleanly (%s)',
    async (how) => {
      const r = await runNode(WORKER_SCRIPT, { env: { SDP_URL: backend.url() }, args: [how], timeoutMs: 30000 })
      expect({ stderr: r.stderr, signal: r.signal, killed: r.killed }).toEqual({ stderr: '', signal: null, killed: false })
      expect(r.code).toBe(0)
      const report = lastJson(r.stdout)
      if (how === 'terminate') {
        expect(report.seen).toEqual([{ started: true }])
        expect(report.exitCode).toBe(1) // what terminate() reports
      } else {
        // 1 + 2 + ... + 200
        expect(report.seen).toEqual([{ sum: 20100 }])
        expect(report.exitCode).toBe(0)
      }
    },
  )

  test('replies wake the JS thread itself: 100 awaits in a row take well under the watchdog ticks', async () => {
    // A reply read by the reactor finishes its call from a libuv callback
    // of ours, and the result must reach JS at once. Were the JS thread not
    // woken by the reply (the libuv watcher broken), only the watchdog
    // would read it, a 25-50 ms tick later: 100 awaits would take at least
    // 2.5 s, that is >= 100 ticks of a 25 ms interval. Were the result
    // left queued, it would hang. Read by the JS thread, 100 point-selects
    // take milliseconds.
    const script = `
      const { Pool } = require(${JSON.stringify(LIB)})
      const pool = new Pool({ url: process.env.SDP_URL, maxConnections: 1 })
      ;(async () => {
        await pool.queryOne('SELECT 1 AS one') // connected
        let ticks = 0
        const interval = setInterval(() => ticks++, 25)
        let n = 0
        for (let i = 0; i < 100; i++) n += Number((await pool.queryOne('SELECT 1 AS one')).one)
        clearInterval(interval)
        console.log(JSON.stringify({ n, ticks }))
        await pool.close()
      })()
    `
    const r = await runNode(script, { env: { SDP_URL: backend.url() }, timeoutMs: 30000 })
    expect({ stderr: r.stderr, code: r.code, killed: r.killed }).toEqual({ stderr: '', code: 0, killed: false })
    const { n, ticks } = lastJson(r.stdout)
    expect(n).toBe(100)
    expect(ticks).toBeLessThan(40)
  })

  test('an idle pool leaves the reactor watchdog asleep', async () => {
    // The watchdog sleeps in poll(2) until events wait for the JS thread;
    // were it to look on a timer (it once did, every 25 ms), its context
    // switches would climb while the pool idles.
    const script = `
      const fs = require('node:fs')
      const { Pool } = require(${JSON.stringify(LIB)})
      const pool = new Pool({ url: process.env.SDP_URL, maxConnections: 2 })
      const switches = () => {
        for (const tid of fs.readdirSync('/proc/self/task')) {
          if (fs.readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim() !== 'sdp-io-watchdog') continue
          const status = fs.readFileSync('/proc/self/task/' + tid + '/status', 'utf8')
          return Number(/^voluntary_ctxt_switches:\\s+(\\d+)/m.exec(status)[1])
        }
        return null
      }
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
      ;(async () => {
        await Promise.all([pool.queryOne('SELECT 1 AS one'), pool.queryOne('SELECT 2 AS two')])
        // The replies woke it for one tick; wait until two readings 100 ms
        // apart agree (a loaded machine may run that tick late), for at
        // most 3 s: a watchdog that keeps waking never settles.
        let before = switches()
        for (let i = 0; i < 30; i++) {
          await sleep(100)
          const now = switches()
          if (now === before) break
          before = now
        }
        await sleep(600)
        const after = switches()
        console.log(JSON.stringify({ before, after }))
        await pool.close()
      })()
    `
    const r = await runNode(script, { env: { SDP_URL: backend.url() }, timeoutMs: 30000 })
    expect({ stderr: r.stderr, code: r.code, killed: r.killed }).toEqual({ stderr: '', code: 0, killed: false })
    const { before, after } = lastJson(r.stdout)
    expect(typeof before).toBe('number')
    expect(after).toBe(before)
  })

  test('a JS thread busy for 300 ms loses no reply', async () => {
    const pool = openPool(backend, { maxConnections: 8, minConnections: 8 })
    try {
      await pool.connect()
      const calls = Array.from({ length: 40 }, (_, i) => pool.queryOne('SELECT ? AS n', [i]))
      const until = Date.now() + 300
      while (Date.now() < until) {
        // Busy: no turn of the loop (the watchdog may read replies meanwhile).
      }
      const rows = await Promise.all(calls)
      expect(rows.map((r) => Number(r.n))).toEqual(Array.from({ length: 40 }, (_, i) => i))
      expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    } finally {
      await pool.close()
    }
  })

  test('a reply that came in time is the result, though JS was busy past a timer on tokio', async () => {
    // With statementTimeoutMs the pool keeps a backstop timer on tokio (the
    // limit + 2 s). JS is busy for 2.6 s right after sending, so the JS
    // thread cannot read the reply, which came at once; when the backstop
    // fires, the reply must be read (the reactor's watchdog turns it), not
    // the statement given up as timed out.
    const pool = openPool(backend, { maxConnections: 1, statementTimeoutMs: 100 })
    try {
      await pool.queryOne('SELECT 1 AS one') // connected
      const call = pool.queryOne('SELECT 7 AS n')
      const until = Date.now() + 2600
      while (Date.now() < until) {
        // Busy.
      }
      expect(Number((await call).n)).toBe(7)
      expect(pool.status()).toMatchObject({ inUse: 0, size: 1 })
    } finally {
      await pool.close()
    }
  })

  test('500 callers queued on 2 connections each get their own row', async () => {
    const pool = openPool(backend, { maxConnections: 2 })
    try {
      const calls = Array.from({ length: 500 }, (_, i) => pool.queryOne('SELECT ? AS n', [i]).then((r) => Number(r.n)))
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 500 }, (_, i) => i))
      expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0, size: 2 })
    } finally {
      await pool.close()
    }
  })
})

if (servers.length === 0) {
  test.skip('server sockets: no TEST_POSTGRES_URL / TEST_MYSQL_URL set', () => {})
}
