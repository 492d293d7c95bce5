'use strict'
// Read replicas against a real streaming replica (issue 7): routing of
// reads and writes, reports, and fallback to the primary while the replica
// is down.
//
// Needs TEST_POSTGRES_URL (the primary) and TEST_REPLICA_URL (a hot standby
// of it); .ci/run makes one with pg_basebackup on 127.0.0.1:5433. The
// fallback tests stop and start that standby with pg_ctl (as the postgres
// user when run as root); its data directory is TEST_REPLICA_PGDATA, by
// default /var/lib/postgresql/sdp-replica, as .ci/run creates it.
const fs = require('node:fs')
const { spawnSync } = require('node:child_process')
const { Session } = require('@shopify/shopify-api')
const { Pool, tableName, dropTable, sleep } = require('./helpers')
const { resolveConfig, PoolSessionStorage } = require('../lib/index.js')
const { sessionTableSql } = require('./session-table.js')

const PRIMARY = process.env.TEST_POSTGRES_URL
const REPLICA = process.env.TEST_REPLICA_URL
const PGDATA = process.env.TEST_REPLICA_PGDATA || '/var/lib/postgresql/sdp-replica'
const WHERE = 'SELECT pg_is_in_recovery() AS r, inet_server_port() AS port'

const port = (url) => Number(new URL(url).port || 5432)
const ON_PRIMARY = PRIMARY && { r: false, port: port(PRIMARY) }
const ON_REPLICA = REPLICA && { r: true, port: port(REPLICA) }

const describeIf = PRIMARY && REPLICA ? describe : describe.skip
if (!(PRIMARY && REPLICA)) {
  test.skip('replica tests need TEST_POSTGRES_URL and TEST_REPLICA_URL (.ci/run sets both)', () => {})
}

/** Polls `fn` until it returns a truthy value; fails after `timeoutMs`. */
async function eventually(fn, timeoutMs, what) {
  const start = Date.now()
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return { value: last, ms: Date.now() - start }
    } catch (e) {
      last = e
    }
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms (last: ${last && (last.message || JSON.stringify(last))})`)
    await sleep(50)
  }
}

// ---- control of the standby (stop / start), for the fallback tests ----

let pgCtlPath = null
function pgCtl(...args) {
  const asPostgres = process.getuid && process.getuid() === 0
  const cmd = asPostgres ? 'runuser' : pgCtlPath
  const argv = [...(asPostgres ? ['-u', 'postgres', '--', pgCtlPath] : []), '-D', PGDATA, '-w', '-t', '60', ...args]
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 90000 })
  return { ok: r.status === 0, output: `${r.stdout || ''}${r.stderr || ''}${r.error ? r.error.message : ''}` }
}
const stopReplica = () => pgCtl('-m', 'fast', 'stop')
const startReplica = () =>
  pgCtl('-l', `${PGDATA}.log`, '-o', `-p ${port(REPLICA)} -c listen_addresses=127.0.0.1 -c hot_standby=on`, 'start')
const replicaRunning = () => pgCtl('status').ok

describeIf('read replicas (a streaming standby)', () => {
  let pool
  let direct // straight to the replica, for checks
  let table

  beforeAll(async () => {
    pool = new Pool({ url: PRIMARY, readReplicaUrls: [REPLICA], maxConnections: 5 })
    direct = new Pool({ url: REPLICA, maxConnections: 2 })
    table = tableName('repl')
    await pool.execute(`CREATE TABLE ${table} (id BIGSERIAL PRIMARY KEY, tag TEXT NOT NULL, port INTEGER, recovery BOOLEAN)`)
    // The standby must have the table before anything reads it there.
    await eventually(async () => (await direct.queryOne('SELECT to_regclass(?) IS NOT NULL AS ok', [table])).ok, 15000, 'the table on the replica')
    const { version } = await direct.queryOne("SELECT current_setting('server_version_num')::int / 10000 AS version")
    const candidate = `/usr/lib/postgresql/${version}/bin/pg_ctl`
    if (fs.existsSync(candidate) && fs.existsSync(`${PGDATA}/standby.signal`)) pgCtlPath = candidate
  })

  afterAll(async () => {
    // Whatever happened, leave the standby running for the next run.
    if (pgCtlPath && !replicaRunning()) {
      const r = startReplica()
      if (!r.ok) console.error(`could not restart the replica: ${r.output}`)
    }
    if (pgCtlPath) {
      await eventually(async () => (await direct.queryOne('SELECT pg_is_in_recovery() AS r')).r, 30000, 'the replica back').catch((e) => console.error(e.message))
    }
    await dropTable(pool.primary, table)
    await direct.close()
    await pool.close()
  })

  test('the fixture: the replica is a hot standby, on another port than the primary', async () => {
    expect(await direct.queryOne(WHERE)).toEqual(ON_REPLICA)
    const receiver = await direct.queryOne('SELECT status FROM pg_stat_wal_receiver')
    expect(receiver).toEqual({ status: 'streaming' })
    expect(ON_REPLICA.port).not.toBe(ON_PRIMARY.port)
  })

  test('a write on the primary becomes visible on the replica (within 10 s)', async () => {
    const tag = `w-${process.pid}-${Date.now()}`
    await pool.execute(`INSERT INTO ${table} (tag) VALUES (?)`, [tag])
    const { ms } = await eventually(async () => (await direct.queryOne(`SELECT tag FROM ${table} WHERE tag = ?`, [tag])) !== null, 10000, 'the row on the replica')
    expect(ms).toBeLessThan(10000)
  })

  test('query and queryOne outside a transaction are served by the replica', async () => {
    for (let i = 0; i < 10; i++) {
      expect(await pool.queryOne(WHERE)).toEqual(ON_REPLICA)
      expect(await pool.query(WHERE)).toEqual([ON_REPLICA])
    }
    const seen = await Promise.all(Array.from({ length: 20 }, () => pool.queryOne(WHERE)))
    expect(seen).toEqual(Array(20).fill(ON_REPLICA))
  })

  test('pool.primary reads from the primary, and reads its own writes at once', async () => {
    expect(await pool.primary.queryOne(WHERE)).toEqual(ON_PRIMARY)
    expect(await pool.primary.query(WHERE)).toEqual([ON_PRIMARY])
    for (let i = 0; i < 20; i++) {
      const tag = `ryw-${i}-${Date.now()}`
      await pool.execute(`INSERT INTO ${table} (tag) VALUES (?)`, [tag])
      expect(await pool.primary.queryOne(`SELECT tag FROM ${table} WHERE tag = ?`, [tag])).toEqual({ tag })
    }
    // A write that returns rows is a read as far as routing goes: it goes
    // through the primary view.
    const row = await pool.primary.queryOne(`INSERT INTO ${table} (tag) VALUES (?) RETURNING inet_server_port() AS port`, ['returning'])
    expect(row).toEqual({ port: ON_PRIMARY.port })
    // Same pool underneath: one status, one set of connections.
    expect(pool.primary.closed).toBe(false)
    expect(pool.primary.status().maxConnections).toBe(pool.status().maxConnections)
  })

  test('execute, batch and transactions go to the primary', async () => {
    const tag = `route-${Date.now()}`
    const record = `INSERT INTO ${table} (tag, port, recovery) VALUES (?, inet_server_port(), pg_is_in_recovery())`
    expect((await pool.execute(record, [`${tag}-execute`])).rowsAffected).toBe(1)
    const res = await pool.batch([
      { sql: record, params: [`${tag}-batch1`] },
      { sql: record, params: [`${tag}-batch2`] },
    ])
    expect(res.map((r) => r.rowsAffected)).toEqual([1, 1])
    const tx = await pool.begin()
    expect(await tx.queryOne(WHERE)).toEqual(ON_PRIMARY)
    expect(await tx.query(WHERE)).toEqual([ON_PRIMARY])
    await tx.execute(record, [`${tag}-begin`])
    await tx.commit()
    const inFn = await pool.transaction(async (t) => {
      await t.execute(record, [`${tag}-transaction`])
      return t.queryOne(WHERE)
    })
    expect(inFn).toEqual(ON_PRIMARY)
    const rows = await pool.primary.query(`SELECT tag, port, recovery FROM ${table} WHERE tag LIKE ? ORDER BY tag`, [`${tag}-%`])
    expect(rows).toEqual(
      ['batch1', 'batch2', 'begin', 'execute', 'transaction'].map((k) => ({ tag: `${tag}-${k}`, port: ON_PRIMARY.port, recovery: false })),
    )
  })

  test('status(), metrics() and detailedHealth() report the replica (password masked)', async () => {
    const withPassword = new URL(REPLICA)
    withPassword.password = 'ReplicaSecret99'
    const p = new Pool({ url: PRIMARY, readReplicaUrls: [withPassword.toString()], maxConnections: 3 })
    try {
      for (let i = 0; i < 3; i++) expect(await p.queryOne(WHERE)).toEqual(ON_REPLICA)
      const status = p.status()
      expect(status.replicas).toHaveLength(1)
      expect(status.replicas[0]).toMatchObject({ healthy: true, inUse: 0, waiting: 0 })
      expect(status.replicas[0].size).toBeGreaterThanOrEqual(1)
      expect(status.replicas[0].url).toContain(`127.0.0.1:${ON_REPLICA.port}`)
      const metrics = p.metrics()
      expect(metrics.replicas).toHaveLength(1)
      expect(metrics.replicas[0].healthy).toBe(true)
      expect(metrics.replicas[0].metrics.queriesTotal).toBeGreaterThanOrEqual(3)
      expect(metrics.replicas[0].metrics.connectionsCreated).toBeGreaterThanOrEqual(1)
      const health = await p.detailedHealth()
      expect(health.replicas).toHaveLength(1)
      expect(health.replicas[0]).toMatchObject({ routed: true, health: { status: 'healthy', database_type: 'postgres', error: null } })
      const everything = JSON.stringify({ status, metrics, health }, (k, v) => (typeof v === 'bigint' ? String(v) : v))
      expect(everything).not.toContain('ReplicaSecret99')
      // A pool without replicas has none in its reports.
      expect(direct.status().replicas).toBeUndefined()
    } finally {
      await p.close()
    }
  })

  test('DATABASE_REPLICA_URLS (comma-separated) through resolveConfig', async () => {
    const options = resolveConfig({ DATABASE_URL: PRIMARY, DATABASE_REPLICA_URLS: ` ${REPLICA} , ${REPLICA},` })
    expect(options.readReplicaUrls).toEqual([REPLICA, REPLICA])
    // Unset: no replicas (the key is left out).
    expect(resolveConfig({ DATABASE_URL: PRIMARY }).readReplicaUrls ?? []).toEqual([])
    const p = new Pool(options)
    try {
      expect(await p.queryOne(WHERE)).toEqual(ON_REPLICA)
      expect(await p.primary.queryOne(WHERE)).toEqual(ON_PRIMARY)
      expect(p.status().replicas).toHaveLength(2)
    } finally {
      await p.close()
    }
  })

  test('PoolSessionStorage on a pool with replicas loads the session it has just stored (read-your-writes)', async () => {
    // The Shopify OAuth callback stores the session and the next request
    // loads it: replication lag must not lose it.
    const st = tableName('ReplSession')
    await pool.execute(sessionTableSql('postgres', st))
    try {
      const storage = new PoolSessionStorage(pool, { tableName: st, connectionRetries: 10, connectionRetryIntervalMs: 200 })
      await storage.isReady()
      const missing = []
      for (let i = 0; i < 20; i++) {
        const session = new Session({ id: `offline_r${i}.myshopify.com`, shop: `r${i}.myshopify.com`, state: 's', isOnline: false, accessToken: `tok${i}` })
        await storage.storeSession(session)
        const loaded = await storage.loadSession(session.id)
        if (!loaded || loaded.accessToken !== `tok${i}`) missing.push(session.id)
      }
      expect(missing).toEqual([])
    } finally {
      await dropTable(pool.primary, st)
    }
  })

  describe('fallback while the replica is down', () => {
    const controllable = () => {
      if (!pgCtlPath) console.warn(`fallback tests skipped: no standby to control at ${PGDATA}`)
      return Boolean(pgCtlPath)
    }

    test('reads right after the replica stops are all served by the primary, without an error', async () => {
      if (!controllable()) return
      // Idle connections to the replica in the pool, as in a running app.
      await Promise.all(Array.from({ length: 5 }, () => pool.queryOne(WHERE)))
      expect(pool.status().replicas[0].idle).toBeGreaterThanOrEqual(2)
      const stopped = stopReplica()
      expect(stopped).toMatchObject({ ok: true })
      const outcomes = []
      const read = () => pool.queryOne(WHERE).then((v) => outcomes.push(v), (e) => outcomes.push(`${e.code} ${e.sqlState || ''} ${e.message}`))
      await Promise.all(Array.from({ length: 5 }, read))
      for (let i = 0; i < 5; i++) await read()
      expect({ outcomes, healthy: pool.status().replicas[0].healthy }).toEqual({ outcomes: Array(10).fill(ON_PRIMARY), healthy: false })
    })

    test('while it is down: reads succeed on the primary; status, metrics and detailedHealth say it is unhealthy', async () => {
      if (!controllable()) return
      if (replicaRunning()) expect(stopReplica()).toMatchObject({ ok: true })
      // A pool that starts while the replica is down.
      const p = new Pool({ url: PRIMARY, readReplicaUrls: [REPLICA], maxConnections: 3, connectTimeoutMs: 1000 })
      try {
        for (let i = 0; i < 10; i++) expect(await p.queryOne(WHERE)).toEqual(ON_PRIMARY)
        expect(await p.query(WHERE)).toEqual([ON_PRIMARY])
        expect(p.status().replicas[0].healthy).toBe(false)
        expect(p.metrics().replicas[0].healthy).toBe(false)
        expect(p.metrics().replicas[0].metrics.errorsByCode.CONNECTION_FAILED).toBeGreaterThanOrEqual(1)
        const health = await p.detailedHealth({ timeoutMs: 2000 })
        expect(health.replicas[0]).toMatchObject({ routed: false, health: { status: 'unhealthy' } })
        expect(health.database.status).not.toBe('unhealthy')
        // Writes never depended on the replica.
        expect((await p.execute(`INSERT INTO ${table} (tag) VALUES (?)`, ['while-down'])).rowsAffected).toBe(1)
      } finally {
        await p.close()
      }
      // The long-lived pool has stopped routing to it too, and serves reads.
      await pool.queryOne(WHERE).catch(() => {}) // lets it notice, if the test above did not run
      expect(await pool.queryOne(WHERE)).toEqual(ON_PRIMARY)
      expect(pool.status().replicas[0].healthy).toBe(false)
    })

    test('started again, the replica is healthy and serves reads within 15 s', async () => {
      if (!controllable()) return
      const started = startReplica()
      expect(started).toMatchObject({ ok: true })
      await eventually(async () => (await direct.queryOne('SELECT pg_is_in_recovery() AS r')).r, 15000, 'the replica accepting reads')
      const { ms } = await eventually(() => pool.status().replicas[0].healthy, 15000, 'status().replicas[0].healthy')
      expect(ms).toBeLessThan(15000)
      expect(pool.metrics().replicas[0].healthy).toBe(true)
      const seen = []
      for (let i = 0; i < 5; i++) seen.push(await pool.queryOne(WHERE))
      expect(seen).toEqual(Array(5).fill(ON_REPLICA))
      const health = await pool.detailedHealth()
      expect(health.replicas[0]).toMatchObject({ routed: true, health: { status: 'healthy' } })
    })
  })
})
