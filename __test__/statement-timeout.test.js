'use strict'
// statementTimeoutMs: a statement running longer rejects with TIMEOUT well
// before it would have finished (PostgreSQL pg_sleep, MySQL/MariaDB SLEEP,
// SQLite a never-ending recursive CTE), and the pool and that connection
// stay usable: the next query works, nothing is left in use.
const { backends, openPool, expectDbError, settleWithin } = require('./helpers')

const SLOW = {
  postgres: 'SELECT pg_sleep(2)',
  mysql: 'SELECT SLEEP(2)',
  sqlite: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c',
}
const CONNECTION_ID = {
  postgres: 'SELECT pg_backend_pid() AS id',
  mysql: 'SELECT CONNECTION_ID() AS id',
  sqlite: null,
}

describe.each(backends())('statementTimeoutMs on $name', (backend) => {
  let pool
  afterEach(async () => {
    if (pool) await settleWithin(pool.close({ timeoutMs: 3000 }), 10000)
    pool = undefined
  })

  async function connectionId() {
    const sql = CONNECTION_ID[backend.name]
    return sql ? String((await pool.queryOne(sql)).id) : null
  }

  test('a slow statement rejects with TIMEOUT well before 2 s; the same connection serves the next query', async () => {
    pool = openPool(backend, { statementTimeoutMs: 200, maxConnections: 1 })
    const idBefore = await connectionId()
    await pool.query('SELECT 1 AS x')
    const created = pool.metrics().connectionsCreated
    const before = pool.metrics()
    const started = Date.now()
    const outcome = await settleWithin(expectDbError(pool.query(SLOW[backend.name]), 'TIMEOUT'), 10000)
    const took = Date.now() - started
    expect(outcome).not.toBe('hung')
    expect(took).toBeLessThan(1500)
    expect(outcome.message).toMatch(/200/)

    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
    expect(await pool.queryOne('SELECT 1 AS x')).toEqual({ x: 1 })
    expect(pool.status()).toMatchObject({ inUse: 0, size: 1 })
    // That connection, not a replacement.
    expect(await connectionId()).toBe(idBefore)
    expect(pool.metrics().connectionsCreated).toBe(created)
    const after = pool.metrics()
    expect((after.errorsByCode.TIMEOUT || 0) - (before.errorsByCode.TIMEOUT || 0)).toBe(1)
  })

  test('every query method honours it (query, queryOne, execute)', async () => {
    pool = openPool(backend, { statementTimeoutMs: 200, maxConnections: 1 })
    for (const call of [(s) => pool.query(s), (s) => pool.queryOne(s), (s) => pool.execute(s)]) {
      const started = Date.now()
      const r = await settleWithin(expectDbError(call(SLOW[backend.name]), 'TIMEOUT'), 10000)
      expect(r).not.toBe('hung')
      expect(Date.now() - started).toBeLessThan(1500)
    }
    expect(await pool.queryOne('SELECT 3 AS x')).toEqual({ x: 3 })
    expect(pool.status().inUse).toBe(0)
  })

  test('inside a transaction: TIMEOUT, then rollback works and the pool is usable', async () => {
    pool = openPool(backend, { statementTimeoutMs: 200, maxConnections: 1 })
    const tx = await pool.begin()
    const started = Date.now()
    const r = await settleWithin(expectDbError(tx.query(SLOW[backend.name]), 'TIMEOUT'), 10000)
    expect(r).not.toBe('hung')
    expect(Date.now() - started).toBeLessThan(1500)
    await tx.rollback()
    expect(pool.status()).toMatchObject({ inUse: 0 })
    expect(await pool.queryOne('SELECT 4 AS x')).toEqual({ x: 4 })
  })

  test('the limit is per statement: several short statements in a row all succeed', async () => {
    pool = openPool(backend, { statementTimeoutMs: 200, maxConnections: 1 })
    const short = {
      postgres: 'SELECT 1 AS s FROM pg_sleep(0.06)',
      mysql: 'SELECT SLEEP(0.06) + 1 AS s',
      sqlite: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000) SELECT 1 AS s FROM c LIMIT 1',
    }[backend.name]
    const tx = await pool.begin()
    try {
      for (let i = 0; i < 5; i++) expect(Number((await tx.queryOne(short)).s)).toBe(1)
    } finally {
      await tx.commit()
    }
    for (let i = 0; i < 5; i++) expect(Number((await pool.queryOne(short)).s)).toBe(1)
    expect(pool.metrics().errorsByCode.TIMEOUT).toBeUndefined()
  })

  test('statementTimeoutMs 0 (default) sets no limit: a 0.5 s statement completes', async () => {
    pool = openPool(backend, { maxConnections: 1 })
    const sql = {
      postgres: 'SELECT 1 AS s FROM pg_sleep(0.5)',
      mysql: 'SELECT SLEEP(0.5) + 1 AS s',
      sqlite: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5000000) SELECT count(*) AS s FROM c',
    }[backend.name]
    const row = await pool.queryOne(sql)
    expect(Number(row.s)).toBeGreaterThanOrEqual(1)
  })
})
