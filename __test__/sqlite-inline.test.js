'use strict'
// SQLite statements run inline on the JS thread (src/pool/inline.rs): the
// same results as the sqlx path, and the event loop still turns.
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { Pool, sqliteUrl, slowSql } = require('./helpers')

const MATRIX = path.join(__dirname, 'fixtures', 'sqlite-value-matrix.js')
const LOCKER = path.join(__dirname, 'faults', 'fixtures', 'sqlite-locker.js')

/** Another process holds SQLite's write lock for `holdMs` (two SQLite
 * libraries in one process would not see each other's locks). */
function lockFrom(file, holdMs) {
  const child = spawn(process.execPath, [LOCKER, file, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.on('close', resolve))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('locked')) resolve({ exited })
    })
    exited.then((code) => reject(new Error(`locker exited ${code} before locking`)))
  })
}

function matrix(inlineBudgetUs) {
  const file = sqliteUrl('matrix').slice('file:'.length)
  const env = { ...process.env, SHOPIFY_DB_POOL_INLINE_BUDGET_US: String(inlineBudgetUs) }
  const out = JSON.parse(execFileSync(process.execPath, [MATRIX, file], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  const outcomes = new Map(out.outcomes)
  outcomes.queriesInline = out.queriesInline
  outcomes.inlineOverruns = out.inlineOverruns
  return outcomes
}

describe('inline SQLite statements', () => {
  test('return exactly what the sqlx path returns: values, shapes, errors, execute results', () => {
    const inline = matrix(1000)
    const viaSqlx = matrix(0)
    expect([...inline.keys()]).toEqual([...viaSqlx.keys()])
    for (const [label, outcome] of inline) {
      expect([label, outcome]).toEqual([label, viaSqlx.get(label)])
    }
    // Spot checks that the matrix says something.
    expect(inline.get('unique violation').error).toMatchObject({ code: 'QUERY_FAILED', sqlState: '2067' })
    expect(inline.get('too few params').error.code).toBe('INVALID_ARGUMENT')
    expect(inline.get('no row').ok).toBeNull()
    expect(inline.get('many rows').ok).toHaveLength(1000)
    expect(inline.get('__proto__ column').ok[0].proto).toBe(true)
    // And the two runs took different paths: most statements ran on the JS
    // thread in the first, none in the second. (A statement the OS kept
    // off the CPU past the inline limit re-runs on the worker thread, an
    // overrun; on a loaded machine that happens, and its result is still
    // compared above, so overruns are not asserted to be 0.)
    expect(inline.queriesInline).toBeGreaterThan(inline.size / 2)
    expect(viaSqlx.queriesInline).toBe(0)
    expect(viaSqlx.inlineOverruns).toBe(0)
  })

  test('see a schema change made after their statement was cached (both paths)', () => {
    // sqlx 0.8 kept a cached statement's columns across ALTER TABLE (no
    // rows, then a worker panic); its cache is off for SQLite now.
    for (const inline of [matrix(1000000), matrix(0)]) {
    expect(inline.get('star after alter').ok[0].entries).toEqual([['x', 1], ['y', 'd']])
    expect(inline.get('star after rename').ok[0].entries).toEqual([['x', 1], ['z', 'd']])
    }
  })

  describe('on one pool', () => {
    let pool
    beforeAll(async () => {
      pool = new Pool({ url: sqliteUrl('inline'), maxConnections: 4 })
      await pool.execute('CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)')
      await pool.execute('CREATE TABLE items (who TEXT, n INTEGER)') // the locker writes here
      await pool.batch(Array.from({ length: 1000 }, (_, i) => ({ sql: 'INSERT INTO kv VALUES (?, ?)', params: [i, `v${i}`] })))
    })
    afterAll(() => pool.close())

    test('a chain of awaited queries still lets timers run (the per-turn budget)', async () => {
      let ticks = 0
      const timer = setInterval(() => { ticks += 1 }, 1)
      const started = Date.now()
      let done = 0
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (done < 20000) {
          const k = ++done % 1000
          const row = await pool.queryOne('SELECT v FROM kv WHERE k = ?', [k])
          if (row.v !== `v${k}`) throw new Error(`wrong row for ${k}: ${JSON.stringify(row)}`)
        }
      }))
      clearInterval(timer)
      // A synchronous driver runs all 20,000 in one turn: zero ticks.
      expect(Date.now() - started).toBeGreaterThan(0)
      expect(ticks).toBeGreaterThanOrEqual(2)
      expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    })

    test('a long statement is moved off the JS thread and still answers', async () => {
      let ticks = 0
      const before = pool.metrics()
      const timer = setInterval(() => { ticks += 1 }, 1)
      const row = await pool.queryOne(slowSql('sqlite', 0.3))
      clearInterval(timer)
      expect(row).toEqual({ s: 1 })
      // Held on the JS thread for 0.3 s, the timer could not have fired.
      expect(ticks).toBeGreaterThanOrEqual(2)
      const after = pool.metrics()
      expect(after.inlineOverruns - before.inlineOverruns).toBe(1)
      expect(after.queriesInline - before.queriesInline).toBe(0)
      expect(after.queriesTotal - before.queriesTotal).toBe(1)
      // Run again, same answer (after three overruns on a connection its SQL
      // goes to the worker thread directly).
      expect(await pool.queryOne(slowSql('sqlite', 0.3))).toEqual({ s: 1 })
    })

    test('a write that finds the database locked waits off the JS thread', async () => {
      const locker = await lockFrom(pool.options.url.slice('file:'.length), 300)
      let ticks = 0
      const timer = setInterval(() => { ticks += 1 }, 1)
      const result = await pool.execute('INSERT INTO kv VALUES (?, ?)', [5000, 'late'])
      clearInterval(timer)
      expect(result).toEqual({ rowsAffected: 1, lastInsertId: 5000 })
      // Waiting ~300 ms for the lock on the JS thread, no tick could run.
      expect(ticks).toBeGreaterThanOrEqual(2)
      expect(await locker.exited).toBe(0)
    })

    test('autocommit inserts each run exactly once (a write that finished is never re-run)', async () => {
      // SQLite reports SQLITE_INTERRUPT from a write's last step when the
      // time limit passes during its commit (a WAL checkpoint, say), after
      // the row is in: re-running it failed with a UNIQUE violation. A
      // checkpoint on every commit makes commits slow enough to hit it.
      const one = new Pool({ url: pool.options.url, maxConnections: 1 })
      await one.execute('PRAGMA wal_autocheckpoint = 1')
      await one.execute('CREATE TABLE once (id TEXT PRIMARY KEY, writer INTEGER, payload TEXT)')
      const failures = []
      await Promise.all(Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 250; i++) {
          await one.execute('INSERT INTO once VALUES (?, ?, ?)', [`${w}-${i}`, w, 'x'.repeat(500)]).catch((e) => failures.push(e.message))
        }
      }))
      expect(failures).toEqual([])
      expect(await one.queryOne('SELECT count(*) AS n, count(DISTINCT id) AS d FROM once')).toEqual({ n: 2000, d: 2000 })
      await one.close()
    })

    test('a slow write interrupted on the JS thread is rolled back and applied once on the worker thread', async () => {
      await pool.execute('CREATE TABLE bulk (n INTEGER)')
      const fill = 'INSERT INTO bulk WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT x FROM c'
      const before = pool.metrics()
      const result = await pool.execute(fill)
      expect(pool.metrics().inlineOverruns - before.inlineOverruns).toBe(1)
      expect(result.rowsAffected).toBe(300000)
      expect(await pool.queryOne('SELECT count(*) AS n FROM bulk')).toEqual({ n: 300000 })
    })

    test('each inline statement is counted like any other', async () => {
      const before = pool.metrics()
      await pool.queryOne('SELECT v FROM kv WHERE k = ?', [1])
      await pool.query('SELECT nope FROM kv').catch(() => {})
      const after = pool.metrics()
      expect(after.queriesTotal - before.queriesTotal).toBe(2)
      expect(after.queriesInline - before.queriesInline).toBe(2)
      expect((after.errorsByCode.QUERY_FAILED ?? 0) - (before.errorsByCode.QUERY_FAILED ?? 0)).toBe(1)
      expect(pool.status().inUse).toBe(0)
    })

    test('after a pause, a burst of calls still runs on the JS thread (an idle SQLite connection is not pinged)', async () => {
      const fresh = new Pool({ url: pool.options.url, maxConnections: 4 })
      await fresh.queryOne('SELECT 1 AS one')
      await new Promise((resolve) => setTimeout(resolve, 1200)) // past the 1 s after which server connections are pinged
      const before = fresh.metrics()
      const rows = await Promise.all(Array.from({ length: 64 }, (_, i) => fresh.queryOne('SELECT v FROM kv WHERE k = ?', [i])))
      expect(rows.map((r) => r.v)).toEqual(Array.from({ length: 64 }, (_, i) => `v${i}`))
      const after = fresh.metrics()
      expect(after.queriesInline - before.queriesInline).toBe(64)
      expect(fresh.status().size).toBe(1)
      await fresh.close()
    })

    test('calls that queued for a connection run through the C API once they get one, not through the worker thread', async () => {
      const one = new Pool({ url: pool.options.url, maxConnections: 1 })
      await one.execute('CREATE TABLE IF NOT EXISTS queued (n INTEGER)')
      const tx = await one.begin() // holds the only connection
      const before = one.metrics()
      const reads = Array.from({ length: 20 }, (_, i) => one.queryOne('SELECT v FROM kv WHERE k = ?', [i]))
      const writes = Array.from({ length: 5 }, (_, i) => one.execute('INSERT INTO queued (n) VALUES (?)', [i]))
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(one.status().waiting).toBe(25)
      await tx.commit()
      expect((await Promise.all(reads)).map((r) => r.v)).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`))
      expect((await Promise.all(writes)).map((r) => r.rowsAffected)).toEqual([1, 1, 1, 1, 1])
      const after = one.metrics()
      expect(after.queriesInline - before.queriesInline).toBe(25)
      expect(await one.queryOne('SELECT count(*) AS n FROM queued')).toEqual({ n: 5 })
      await one.close()
    })

    test('statementTimeoutMs still applies to a statement that starts inline', async () => {
      const timed = new Pool({ url: pool.options.url, statementTimeoutMs: 100 })
      await timed.queryOne('SELECT 1 AS one')
      await expect(timed.queryOne(slowSql('sqlite', 3))).rejects.toMatchObject({ code: 'TIMEOUT' })
      expect(await timed.queryOne('SELECT 1 AS one')).toEqual({ one: 1 })
      await timed.close()
    })
  })
})
