'use strict'
// Pool behaviour: status().waiting counts the callers queued behind held
// connections, and returns to 0 once they are served or give up.
const { backends, openPool, waitFor, expectDbError } = require('./helpers')

describe.each(backends())('waiting count on $name', (backend) => {
  let pool

  beforeEach(() => {
    pool = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 10000 })
  })

  afterEach(async () => {
    await pool.close()
  })

  test('waiting is 0 on an idle pool and while the only connection is held with nobody queued', async () => {
    expect(pool.status().waiting).toBe(0)
    const tx = await pool.begin()
    expect(pool.status()).toMatchObject({ inUse: 1, waiting: 0 })
    await tx.rollback()
    expect(pool.status().waiting).toBe(0)
  })

  test('counts each queued caller, and returns to 0 when they are served in turn', async () => {
    const tx = await pool.begin()
    const queued = [pool.query('SELECT 1 AS x'), pool.queryOne('SELECT 2 AS x'), pool.execute('SELECT 3 AS x')]
    await waitFor(() => pool.status().waiting === 3, 5000, 'waiting === 3')
    expect(pool.status()).toMatchObject({ size: 1, inUse: 1, idle: 0, waiting: 3 })

    const extra = pool.begin()
    await waitFor(() => pool.status().waiting === 4, 5000, 'waiting === 4')

    await tx.commit()
    const [a, b, c] = await Promise.all(queued)
    expect(a).toEqual([{ x: 1 }])
    expect(b).toEqual({ x: 2 })
    expect(c.rowsAffected).toBeGreaterThanOrEqual(0)
    const tx2 = await extra
    expect(pool.status()).toMatchObject({ inUse: 1, waiting: 0 })
    await tx2.rollback()
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
  })

  test('waiting drops as callers give up (POOL_TIMEOUT) and is 0 afterwards', async () => {
    const short = openPool(backend, { maxConnections: 1, acquireTimeoutMs: 200 })
    try {
      const tx = await short.begin()
      const queued = [short.query('SELECT 1 AS x'), short.query('SELECT 2 AS x')]
      await waitFor(() => short.status().waiting === 2, 5000, 'waiting === 2')
      await Promise.all(queued.map((p) => expectDbError(p, 'POOL_TIMEOUT')))
      expect(short.status().waiting).toBe(0)
      await tx.rollback()
      expect(short.status()).toMatchObject({ inUse: 0, waiting: 0 })
    } finally {
      await short.close()
    }
  })

  test('waiting counts transaction(fn) callers queued behind one another', async () => {
    let release
    const gate = new Promise((r) => {
      release = r
    })
    const first = pool.transaction(async () => {
      await gate
      return 'first'
    })
    await waitFor(() => pool.status().inUse === 1, 5000, 'first transaction running')
    const second = pool.transaction(async () => 'second')
    const third = pool.transaction(async () => 'third')
    await waitFor(() => pool.status().waiting === 2, 5000, 'waiting === 2')
    release()
    expect(await Promise.all([first, second, third])).toEqual(['first', 'second', 'third'])
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
  })
})
