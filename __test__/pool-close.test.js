'use strict'
// Pool behaviour: close() is graceful. In-flight queries finish and
// resolve; calls made after close() reject with POOL_CLOSED; once close()
// resolves, no connection is left open.
const { Pool, backends, tableName, TYPES, openPool, tableOptions, dropTable, slowSql, expectDbError, sleep, waitFor, settleWithin } = require('./helpers')

describe.each(backends())('pool close on $name', (backend) => {
  test('close() lets in-flight queries finish: they resolve; later calls reject POOL_CLOSED', async () => {
    const pool = openPool(backend, { maxConnections: 3 })
    try {
      await pool.connect()
      const slow = slowSql(backend.name, 0.3)
      const inFlight = [pool.query(slow), pool.query(slow), pool.queryOne(slow)]
      await waitFor(() => pool.status().inUse === 3, 5000, 'three queries in flight')

      const closing = pool.close()
      await expectDbError(pool.query('SELECT 1 AS x'), 'POOL_CLOSED')

      const results = await Promise.allSettled(inFlight)
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled'])
      expect(results[0].value).toEqual([{ s: 1 }])
      expect(results[1].value).toEqual([{ s: 1 }])
      expect(results[2].value).toEqual({ s: 1 })

      await closing
      expect(pool.closed).toBe(true)
      expect(pool.status()).toMatchObject({ size: 0, idle: 0, inUse: 0, closed: true })
      await expectDbError(pool.query('SELECT 1 AS x'), 'POOL_CLOSED')
      await expectDbError(pool.begin(), 'POOL_CLOSED')
    } finally {
      await pool.close()
    }
  })

  test('close() resolves only after the in-flight queries have settled (their promises first)', async () => {
    // A shutdown hook does `await pool.close(); process.exit()`: every
    // in-flight caller must have its result before close() resolves.
    // Repeated, because a wrong order shows up only now and then.
    const early = []
    for (let round = 0; round < 8; round++) {
      const pool = openPool(backend, { maxConnections: 2 })
      try {
        // Warm up first: a fresh SQLite file's first concurrent connects are
        // a separate concern (sqlite-concurrency.test.js).
        await pool.connect()
        const settled = []
        const inFlight = [0, 1].map((i) => pool.query(slowSql(backend.name, 0.1)).then(() => settled.push(i)))
        await waitFor(() => pool.status().inUse === 2, 5000, 'two queries in flight')
        await pool.close()
        if (settled.length !== 2) early.push({ round, settledBeforeClose: [...settled] })
        await Promise.all(inFlight)
      } finally {
        await pool.close()
      }
    }
    expect(early).toEqual([])
  })

  test('an in-flight transaction can finish its work and commit during the drain', async () => {
    const url = backend.url()
    const pool = new Pool({ url, maxConnections: 2 })
    const table = tableName('closetx')
    await pool.execute(`CREATE TABLE ${table} (id ${TYPES[backend.name].int})${tableOptions(backend.name)}`)
    const tx = await pool.begin()
    const closing = pool.close({ timeoutMs: 5000 })
    await tx.execute(`INSERT INTO ${table} (id) VALUES (?)`, [1])
    await tx.commit()
    await closing
    const check = new Pool({ url, maxConnections: 1 })
    try {
      expect(await check.query(`SELECT id FROM ${table}`)).toEqual([{ id: 1 }])
    } finally {
      await dropTable(check, table)
      await check.close()
    }
  })

  test('callers queued for a connection when close() is called reject with POOL_CLOSED', async () => {
    const pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 10000 })
    const tx = await pool.begin()
    const queued = pool.query('SELECT 1 AS x')
    await waitFor(() => pool.status().waiting === 1, 5000, 'one waiter')
    const closing = pool.close({ timeoutMs: 5000 })
    await expectDbError(queued, 'POOL_CLOSED')
    await tx.rollback()
    await closing
    expect(pool.status()).toMatchObject({ size: 0, waiting: 0, closed: true })
  })

  test('close({ timeoutMs }) gives up on a transaction left open, closes its connection, and its writes are lost', async () => {
    const url = backend.url()
    const pool = new Pool({ url, maxConnections: 2 })
    const table = tableName('closeleft')
    await pool.execute(`CREATE TABLE ${table} (id ${TYPES[backend.name].int})${tableOptions(backend.name)}`)
    const tx = await pool.begin()
    try {
      await tx.execute(`INSERT INTO ${table} (id) VALUES (?)`, [1])

      const outcome = await settleWithin(pool.close({ timeoutMs: 200 }).then(() => 'closed'), 10000)
      expect(outcome).toBe('closed')

      // "then closes every connection": the abandoned transaction cannot go on.
      const status = pool.status()
      const afterClose = await tx.query('SELECT 1 AS x').then(
        () => 'resolved',
        (e) => e.code,
      )
      const commit = await tx.commit().then(
        () => 'resolved',
        (e) => e.code,
      )
      expect({ size: status.size, inUse: status.inUse, afterClose, commit }).toEqual({
        size: 0,
        inUse: 0,
        afterClose: expect.not.stringMatching(/^resolved$/),
        commit: expect.not.stringMatching(/^resolved$/),
      })

      const check = new Pool({ url, maxConnections: 1 })
      try {
        expect(await check.query(`SELECT id FROM ${table}`)).toEqual([])
      } finally {
        await check.close()
      }
    } finally {
      // If the pool left the connection open, release it so nothing leaks.
      if (!tx.finished) await tx.rollback().catch(() => {})
      await pool.close()
      const cleanup = new Pool({ url, maxConnections: 1 })
      await dropTable(cleanup, table)
      await cleanup.close()
    }
  })

  if (backend.name === 'postgres') {
    test('after close() resolves the server sees no connection from the pool', async () => {
      const appName = `sdp-close-${process.pid}-${Date.now()}`
      const pool = openPool(backend, { maxConnections: 3, minConnections: 2, applicationName: appName })
      const observer = new Pool({ url: backend.url(), maxConnections: 1 })
      try {
        await pool.connect()
        await Promise.all([pool.query('SELECT 1 AS x'), pool.query('SELECT 2 AS x'), pool.query('SELECT 3 AS x')])
        const count = async () =>
          (await observer.queryOne('SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE application_name = ?', [appName])).n
        expect(await count()).toBeGreaterThanOrEqual(2)
        await pool.close()
        // The server notices a closed socket asynchronously: poll briefly.
        let n = await count()
        for (let i = 0; i < 50 && n > 0; i++) {
          await sleep(20)
          n = await count()
        }
        expect(n).toBe(0)
      } finally {
        await pool.close()
        await observer.close()
      }
    })
  }
})
