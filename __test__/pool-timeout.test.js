'use strict'
// Pool behaviour: when every connection is held, a caller gets POOL_TIMEOUT
// after acquireTimeoutMs, the message carries the pool's figures, and the
// pool serves again once a connection is released.
const { backends, openPool, expectDbError } = require('./helpers')

describe.each(backends())('pool timeout on $name', (backend) => {
  // begin() holds a connection. SQLite's begin() takes the write lock, so a
  // second concurrent begin() would wait on the lock rather than the pool:
  // hold one connection there, two on servers.
  const MAX = backend.name === 'sqlite' ? 1 : 2
  let pool
  const held = []

  beforeEach(() => {
    pool = openPool(backend, { maxConnections: MAX, acquireTimeoutMs: 250 })
  })

  afterEach(async () => {
    for (const tx of held.splice(0)) if (!tx.finished) await tx.rollback().catch(() => {})
    await pool.close()
  })

  async function holdAll() {
    for (let i = 0; i < MAX; i++) held.push(await pool.begin())
    expect(pool.status()).toMatchObject({ size: MAX, idle: 0, inUse: MAX })
  }

  test('POOL_TIMEOUT when every connection is held; the message carries size/idle/waiting/max', async () => {
    await holdAll()
    const err = await expectDbError(pool.query('SELECT 1 AS x'), 'POOL_TIMEOUT')
    expect(err.message).toMatch(new RegExp(`size\\D{0,3}${MAX}\\b`))
    expect(err.message).toMatch(/idle\D{0,3}0\b/)
    expect(err.message).toMatch(/waiting\D{0,3}[1-9]/)
    expect(err.message).toMatch(new RegExp(`max\\D{0,3}${MAX}\\b`))
    expect(err.message).toMatch(/250/)
  })

  test('every kind of call times out the same way (queryOne, execute, batch, begin, transaction)', async () => {
    await holdAll()
    await expectDbError(pool.queryOne('SELECT 1 AS x'), 'POOL_TIMEOUT')
    await expectDbError(pool.execute('SELECT 1 AS x'), 'POOL_TIMEOUT')
    await expectDbError(pool.batch([{ sql: 'SELECT 1 AS x' }]), 'POOL_TIMEOUT')
    await expectDbError(pool.begin(), 'POOL_TIMEOUT')
    await expectDbError(pool.transaction(async () => 'never'), 'POOL_TIMEOUT')
  })

  test('a timed-out caller leaves no trace: waiting back to 0, held connections unchanged', async () => {
    await holdAll()
    await Promise.all([
      expectDbError(pool.query('SELECT 1 AS x'), 'POOL_TIMEOUT'),
      expectDbError(pool.query('SELECT 2 AS x'), 'POOL_TIMEOUT'),
      expectDbError(pool.query('SELECT 3 AS x'), 'POOL_TIMEOUT'),
    ])
    expect(pool.status()).toMatchObject({ size: MAX, idle: 0, inUse: MAX, waiting: 0 })
  })

  test('the pool serves again after a connection is released', async () => {
    await holdAll()
    await expectDbError(pool.query('SELECT 1 AS x'), 'POOL_TIMEOUT')
    await held[0].rollback()
    expect(await pool.queryOne('SELECT 7 AS x')).toEqual({ x: 7 })
    if (held[1]) await held[1].commit()
    expect(await pool.query('SELECT 8 AS x')).toEqual([{ x: 8 }])
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0 })
  })

  test('a waiter that gets a connection before its deadline succeeds instead of timing out', async () => {
    await holdAll()
    const waiter = pool.queryOne('SELECT 9 AS x')
    setTimeout(() => held[0].rollback(), 50)
    expect(await waiter).toEqual({ x: 9 })
  })
})
