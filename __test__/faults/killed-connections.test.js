'use strict'
// Fault 2: every pool connection killed from outside (pg_terminate_backend
// on PostgreSQL, KILL on MariaDB), idle, mid-statement, inside a
// transaction and while callers queue. What must hold: no crash; every
// promise settles; failures carry CONNECTION_FAILED, at most one per broken
// connection (a broken connection is never handed out twice: no later
// query runs on a killed server-side connection id); the pool recovers and
// every later query succeeds.
//
// The pool's connections are found on the server (pg_stat_activity by this
// process's own applicationName; information_schema.PROCESSLIST by this
// process's own MariaDB user and database, not the admin connection) and
// cross-checked against the ids the pool itself reports. Skipped when
// TEST_POSTGRES_URL / TEST_MYSQL_URL are unset.
const H = require('./harness')

const scan = H.installSecretScan('killed-connections')
const MAX = 5

const SERVERS = [
  ['postgres', Boolean(H.PG_BASE)],
  ['mysql', Boolean(H.MY_BASE)],
]

describe.each(SERVERS)('%s: every pool connection killed from outside', (name, enabled) => {
  if (!enabled) {
    test.skip(`needs TEST_${name === 'postgres' ? 'POSTGRES' : 'MYSQL'}_URL`, () => {})
    return
  }

  const appName = `sdp-faults-kill-${process.pid}`
  let url
  let account = null
  let admin
  const pools = []

  beforeAll(async () => {
    if (name === 'postgres') {
      url = await H.postgresUrl()
      admin = new H.Pool({ url: H.PG_BASE, maxConnections: 1 })
    } else {
      account = await H.mysqlAccount()
      url = account.url
      admin = new H.Pool({ url: H.MY_BASE, maxConnections: 1 })
    }
  }, 60000)

  afterAll(async () => {
    for (const p of pools) await p.close({ timeoutMs: 2000 }).catch(() => {})
    await admin.close({ timeoutMs: 2000 }).catch(() => {})
    if (account) await account.drop()
  }, 60000)

  function open(options = {}) {
    const pool = new H.Pool({
      url,
      maxConnections: MAX,
      connectTimeoutMs: 3000,
      acquireTimeoutMs: 10000,
      ...(name === 'postgres' ? { applicationName: appName } : {}),
      ...options,
    })
    pools.push(pool)
    return pool
  }

  const idOf = (row) => String(row.id)

  /** Runs `n` slow id queries at once, so `n` distinct connections answer. */
  async function warm(pool, n) {
    const rows = await Promise.all(Array.from({ length: n }, () => pool.queryOne(H.connectionIdSql(name, 0.2))))
    return rows.map(idOf)
  }

  /** The pool's connections as the server lists them (optionally only those running a statement). */
  async function serverView({ active = false, among = null } = {}) {
    let rows
    if (name === 'postgres') {
      rows = await admin.query(
        `SELECT pid AS id FROM pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()${
          active ? ` AND state = 'active' AND query LIKE '%${H.MARKER}%'` : ''
        }`,
        [appName],
      )
    } else {
      rows = await admin.query(
        `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND DB = ? AND ID <> CONNECTION_ID()${
          active ? ` AND COMMAND IN ('Query', 'Execute') AND INFO LIKE '%${H.MARKER}%'` : ''
        }`,
        [account.user, account.database],
      )
    }
    let ids = rows.map(idOf)
    // Without a dedicated MariaDB user, other clients share the user: keep
    // ours (the ids the pool reported, or statements carrying our marker).
    if (name === 'mysql' && !account.dedicated && !active) ids = ids.filter((id) => among && among.includes(id))
    return ids.sort()
  }

  /** Connection id -> the server's clock (seconds) just before it was killed. */
  const killIssuedAt = new Map()

  async function kill(ids) {
    for (const id of ids) {
      killIssuedAt.set(String(id), Number((await admin.queryOne(`SELECT ${H.serverClockSql(name)} AS t`)).t))
      if (name === 'postgres') await admin.query('SELECT pg_terminate_backend(CAST(? AS integer)) AS k', [Number(id)])
      else await admin.execute(`KILL CONNECTION ${Number(id)}`).catch(() => {}) // already gone: fine
    }
    // The server has let go of them before the pool is used again.
    const deadline = Date.now() + 10000
    for (;;) {
      const still = (await serverView({ among: ids })).filter((id) => ids.includes(id))
      if (still.length === 0) break
      if (Date.now() > deadline) throw new Error(`connections ${still} were not killed`)
      await H.sleep(10)
    }
  }

  /** `rounds` rounds of `width` concurrent id queries; each result settled. */
  async function rounds(pool, count, width) {
    const all = []
    let recoveredAfterRound = null
    for (let r = 0; r < count; r++) {
      const batch = await H.within(
        Promise.all(Array.from({ length: width }, () => scan.settle(pool.queryOne(H.connectionIdSql(name)), 'after kill'))),
        30000,
        `round ${r}`,
      )
      all.push(...batch.map((b) => ({ ...b, round: r })))
      if (recoveredAfterRound === null && batch.every((b) => b.ok)) recoveredAfterRound = r
    }
    return { all, recoveredAfterRound }
  }

  /**
   * What must hold after connections `killed` broke, as one list of
   * violations (so a failure shows every way the contract was missed).
   */
  function expectContract(results, killed) {
    const violations = []
    const failures = results.filter((r) => !r.ok)
    // Every failure is coded CONNECTION_FAILED (the connection broke).
    for (const f of failures) {
      if (f.code !== 'CONNECTION_FAILED') {
        violations.push(`failure coded ${f.code} (sqlState ${f.error && f.error.sqlState}): ${f.error && f.error.message}`)
      }
    }
    // At most one failure per broken connection: none was lent twice.
    if (failures.length > killed.length) {
      violations.push(`${failures.length} failures for ${killed.length} killed connections: a broken connection was lent again`)
    }
    // And no query ran on a killed connection after the kill (a slow one
    // that finished on the server before its kill was issued is fine).
    for (const r of results) {
      if (!r.ok || !killed.includes(idOf(r.value))) continue
      const finishedBeforeKill = r.value.done !== undefined && Number(r.value.done) < killIssuedAt.get(idOf(r.value))
      if (!finishedBeforeKill) violations.push(`a query ran on killed connection ${idOf(r.value)}`)
    }
    expect(violations).toEqual([])
  }

  test('idle connections killed: each broken connection fails at most one caller (CONNECTION_FAILED), none is lent twice, then full service', async () => {
    const pool = open()
    const ids = await warm(pool, MAX)
    expect(new Set(ids).size).toBe(MAX)
    expect(pool.status()).toMatchObject({ size: MAX, idle: MAX, inUse: 0 })
    // The server sees exactly these connections as the pool's.
    expect(await serverView({ among: ids })).toEqual([...ids].sort())

    await kill(ids)
    const killedAt = Date.now()
    // At once (before the pool's idle validation would ping them): four
    // rounds of MAX concurrent callers.
    const { all, recoveredAfterRound } = await rounds(pool, 4, MAX)
    const recoveredMs = Date.now() - killedAt
    expectContract(all, ids)
    // The last rounds are clean: full service.
    expect(all.filter((r) => r.round >= 2 && !r.ok).map((r) => r.code)).toEqual([])
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    expect(pool.status().size).toBeLessThanOrEqual(MAX)
    expect((await pool.checkHealth({ timeoutMs: 3000 })).status).toBe('healthy')
    await scan.recordReports('idle kill', pool)
    H.report({
      fault: `${name}: all ${MAX} idle connections killed`,
      failures: all.filter((r) => !r.ok).map((r) => r.code),
      recoveredAfterRound,
      recoveredMs,
    })
  }, 90000)

  test('connections killed mid-statement: every in-flight call settles with CONNECTION_FAILED; the next callers get fresh connections', async () => {
    const pool = open()
    await warm(pool, MAX)
    const inflight = Array.from({ length: MAX }, () => scan.settle(pool.queryOne(H.connectionIdSql(name, 3)), 'in flight'))
    // Wait until the server runs all of them, then kill exactly those.
    let running = []
    const deadline = Date.now() + 15000
    while (running.length < MAX && Date.now() < deadline) {
      running = await serverView({ active: true })
      if (running.length < MAX) await H.sleep(20)
    }
    expect(running.length).toBe(MAX)
    const killedAt = Date.now()
    await kill(running)
    const settled = await H.within(Promise.all(inflight), 30000, 'the in-flight calls')
    const settledMs = Date.now() - killedAt
    const { all, recoveredAfterRound } = await rounds(pool, 3, MAX)
    // None finished its 3 s statement: all failed; the in-flight failures
    // used up each broken connection's one failure, so the rounds after
    // them are clean.
    expect(settled.filter((s) => s.ok)).toEqual([])
    expectContract([...settled, ...all], running)
    expect(all.filter((r) => !r.ok).map((r) => r.code)).toEqual([])
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    H.report({
      fault: `${name}: ${MAX} connections killed mid-statement`,
      inflight: settled.map((s) => (s.ok ? 'ok' : `${s.code}${s.error.sqlState ? `/${s.error.sqlState}` : ''}`)),
      settledMs,
      recoveredAfterRound,
      recoveredMs: Date.now() - killedAt,
    })
  }, 90000)

  test('the connection of an open transaction killed: its next statement is CONNECTION_FAILED, rollback settles, the connection is not lent again', async () => {
    const pool = open()
    const tx = await pool.begin()
    const id = idOf(await tx.queryOne(H.connectionIdSql(name)))
    await kill([id])
    const r = await scan.settle(tx.queryOne('SELECT 1 AS x'), 'tx after kill')
    const rb = await H.within(scan.settle(tx.rollback(), 'rollback after kill'), 15000, 'rollback')
    if (!rb.ok) expect(H.CODES).toContain(rb.code)
    await H.waitFor(() => pool.status().inUse === 0, 10000, 'inUse 0 after the broken transaction')

    // transaction(fn) whose connection dies inside fn: rejects, rolls back, no reuse.
    const killedInFn = []
    const t = await scan.settle(
      pool.transaction(async (t2) => {
        const mine = idOf(await t2.queryOne(H.connectionIdSql(name)))
        killedInFn.push(mine)
        await kill([mine])
        return t2.queryOne('SELECT 1 AS x')
      }),
      'transaction(fn) after kill',
    )
    await H.waitFor(() => pool.status().inUse === 0, 10000, 'inUse 0 after transaction(fn)')

    const { all } = await rounds(pool, 3, MAX)
    // The statement after the kill and the one inside fn each failed once.
    expect(r.ok).toBe(false)
    expect(t.ok).toBe(false)
    expectContract([r, t, ...all], [id, ...killedInFn])
    expect(all.filter((x) => !x.ok).map((x) => x.code)).toEqual([])
    // A new transaction works end to end.
    await expect(pool.transaction((t3) => t3.queryOne('SELECT 1 AS x'))).resolves.toEqual({ x: 1 })
  }, 90000)

  test('killed while callers queue (3 connections, 12 callers): every call settles, at most one failure per killed connection, the queue is served', async () => {
    const pool = open({ maxConnections: 3 })
    await warm(pool, 3)
    const calls = Array.from({ length: 12 }, () => scan.settle(pool.queryOne(H.connectionIdSql(name, 0.4)), 'queued'))
    let running = []
    const deadline = Date.now() + 15000
    while (running.length < 3 && Date.now() < deadline) {
      running = await serverView({ active: true })
      if (running.length < 3) await H.sleep(10)
    }
    expect(running.length).toBe(3)
    expect(pool.status().waiting).toBeGreaterThan(0)
    await kill(running)
    const settled = await H.within(Promise.all(calls), 60000, 'the queued calls')
    expectContract(settled, running)
    expect(settled.filter((s) => s.ok).length).toBeGreaterThanOrEqual(12 - 3)
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    expect(pool.status().size).toBeLessThanOrEqual(3)
    const { all } = await rounds(pool, 2, 6)
    expect(all.filter((x) => !x.ok).map((x) => x.code)).toEqual([])
    await scan.recordReports('queued kill', pool)
  }, 90000)
})
