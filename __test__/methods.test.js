'use strict'
// Every method of the native Pool and of Transaction, on every backend
// (DESIGN.md "The native Pool").
const { backends, tableName, TYPES, q, openPool, tableOptions, dropTable, expectDbError } = require('./helpers')

describe.each(backends())('Pool methods on $name', (backend) => {
  const T = TYPES[backend.name]
  let pool
  let table

  beforeAll(async () => {
    pool = openPool(backend, { maxConnections: 4 })
    table = tableName('m')
    await pool.execute(
      `CREATE TABLE ${table} (id ${T.id}, name VARCHAR(100) NOT NULL UNIQUE, n ${T.int})${tableOptions(backend.name)}`,
    )
  })

  afterAll(async () => {
    await dropTable(pool, table)
    await pool.close()
  })

  beforeEach(async () => {
    await pool.execute(`DELETE FROM ${table}`)
  })

  async function names() {
    return (await pool.query(`SELECT name FROM ${table} ORDER BY name`)).map((r) => r.name)
  }

  test('backend getter names the backend picked from the URL', () => {
    expect(pool.backend).toBe(backend.name)
  })

  test('constructor does no I/O; connect() opens and verifies a connection', async () => {
    const p = openPool(backend, { minConnections: 1, maxConnections: 2 })
    try {
      expect(p.status().size).toBe(0)
      await expect(p.connect()).resolves.toBeUndefined()
      expect(p.status().size).toBeGreaterThanOrEqual(1)
      expect(p.status().inUse).toBe(0)
    } finally {
      await p.close()
    }
  })

  test('query resolves with every row as a plain object keyed by column name', async () => {
    await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?), (?, ?), (?, ?)`, ['a', 1, 'b', 2, 'c', 3])
    const rows = await pool.query(`SELECT name, n FROM ${table} WHERE n >= ? ORDER BY n`, [2])
    expect(Array.isArray(rows)).toBe(true)
    expect(rows).toEqual([
      { name: 'b', n: 2 },
      { name: 'c', n: 3 },
    ])
    expect(await pool.query(`SELECT name FROM ${table} WHERE n > ?`, [100])).toEqual([])
  })

  test('query without params, and with params undefined / []', async () => {
    expect(await pool.query('SELECT 1 AS one')).toEqual([{ one: 1 }])
    expect(await pool.query('SELECT 1 AS one', undefined)).toEqual([{ one: 1 }])
    expect(await pool.query('SELECT 1 AS one', [])).toEqual([{ one: 1 }])
  })

  test('queryOne resolves with the first row, or null when there is none', async () => {
    await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?), (?, ?)`, ['x', 10, 'y', 20])
    expect(await pool.queryOne(`SELECT name, n FROM ${table} ORDER BY n DESC`)).toEqual({ name: 'y', n: 20 })
    expect(await pool.queryOne(`SELECT name FROM ${table} WHERE name = ?`, ['nope'])).toBeNull()
  })

  test('execute resolves with rowsAffected for INSERT / UPDATE / DELETE', async () => {
    const ins = await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?), (?, ?)`, ['p', 1, 'r', 2])
    expect(ins.rowsAffected).toBe(2)
    const upd = await pool.execute(`UPDATE ${table} SET n = n + 10 WHERE name IN (?, ?)`, ['p', 'r'])
    expect(upd.rowsAffected).toBe(2)
    const none = await pool.execute(`UPDATE ${table} SET n = 0 WHERE name = ?`, ['missing'])
    expect(none.rowsAffected).toBe(0)
    const del = await pool.execute(`DELETE FROM ${table} WHERE name = ?`, ['p'])
    expect(del.rowsAffected).toBe(1)
    expect(await names()).toEqual(['r'])
  })

  if (backend.name === 'postgres') {
    test('execute: lastInsertId is null on PostgreSQL (use RETURNING)', async () => {
      const res = await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['pg', 1])
      expect(res).toEqual({ rowsAffected: 1, lastInsertId: null })
      const row = await pool.queryOne(`INSERT INTO ${table} (name, n) VALUES (?, ?) RETURNING id`, ['pg2', 2])
      expect(Number(row.id)).toBeGreaterThan(0)
    })
  } else {
    test('execute: lastInsertId is the new row id (a number) after an INSERT', async () => {
      const a = await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['first', 1])
      const b = await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['second', 2])
      expect(typeof a.lastInsertId).toBe('number')
      expect(typeof b.lastInsertId).toBe('number')
      expect(b.lastInsertId).toBeGreaterThan(a.lastInsertId)
      const rowA = await pool.queryOne(`SELECT name FROM ${table} WHERE id = ?`, [a.lastInsertId])
      const rowB = await pool.queryOne(`SELECT name FROM ${table} WHERE id = ?`, [b.lastInsertId])
      expect(rowA).toEqual({ name: 'first' })
      expect(rowB).toEqual({ name: 'second' })
    })
  }

  test('execute of DDL resolves with rowsAffected 0', async () => {
    const t = tableName('ddl')
    try {
      const res = await pool.execute(`CREATE TABLE ${t} (a ${T.int})${tableOptions(backend.name)}`)
      expect(res.rowsAffected).toBe(0)
      expect(await pool.query(`SELECT a FROM ${t}`)).toEqual([])
    } finally {
      await dropTable(pool, t)
    }
  })

  describe('batch', () => {
    test('runs statements in order and resolves with one ExecuteResult each', async () => {
      const results = await pool.batch([
        { sql: `INSERT INTO ${table} (name, n) VALUES (?, ?)`, params: ['b1', 1] },
        { sql: `INSERT INTO ${table} (name, n) VALUES (?, ?), (?, ?)`, params: ['b2', 2, 'b3', 3] },
        { sql: `UPDATE ${table} SET n = n * 10 WHERE n >= ?`, params: [2] },
        { sql: `DELETE FROM ${table} WHERE name = 'b1'` },
      ])
      expect(results).toHaveLength(4)
      expect(results.map((r) => r.rowsAffected)).toEqual([1, 2, 2, 1])
      for (const r of results) expect(r).toHaveProperty('lastInsertId')
      expect(await pool.query(`SELECT name, n FROM ${table} ORDER BY name`)).toEqual([
        { name: 'b2', n: 20 },
        { name: 'b3', n: 30 },
      ])
    })

    test('is atomic: a failing statement in the middle leaves nothing applied', async () => {
      await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['existing', 0])
      const err = await expectDbError(
        pool.batch([
          { sql: `INSERT INTO ${table} (name, n) VALUES (?, ?)`, params: ['new1', 1] },
          { sql: `UPDATE ${table} SET n = 99 WHERE name = ?`, params: ['existing'] },
          { sql: `INSERT INTO ${table} (name, n) VALUES (?, ?)`, params: ['existing', 2] }, // unique violation
          { sql: `INSERT INTO ${table} (name, n) VALUES (?, ?)`, params: ['new2', 3] },
        ]),
        'QUERY_FAILED',
      )
      expect(err.message).toMatch(/2/) // names the failing statement's index
      expect(await pool.query(`SELECT name, n FROM ${table} ORDER BY name`)).toEqual([{ name: 'existing', n: 0 }])
      expect(pool.status().inUse).toBe(0)
    })

    test('an empty batch resolves with []', async () => {
      expect(await pool.batch([])).toEqual([])
    })
  })

  describe('begin() / Transaction', () => {
    test('tx.query, tx.queryOne and tx.execute see the transaction’s own writes; commit keeps them', async () => {
      const tx = await pool.begin()
      expect(tx.finished).toBe(false)
      const res = await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['tx1', 7])
      expect(res.rowsAffected).toBe(1)
      expect(await tx.query(`SELECT name, n FROM ${table}`)).toEqual([{ name: 'tx1', n: 7 }])
      expect(await tx.queryOne(`SELECT n FROM ${table} WHERE name = ?`, ['tx1'])).toEqual({ n: 7 })
      expect(await tx.queryOne(`SELECT n FROM ${table} WHERE name = ?`, ['none'])).toBeNull()
      await tx.commit()
      expect(tx.finished).toBe(true)
      expect(await names()).toEqual(['tx1'])
    })

    test('rollback discards the transaction’s writes', async () => {
      await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['keep', 1])
      const tx = await pool.begin()
      await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['discard', 2])
      await tx.execute(`UPDATE ${table} SET n = 100 WHERE name = ?`, ['keep'])
      await tx.execute(`DELETE FROM ${table} WHERE name = ?`, ['keep'])
      await tx.rollback()
      expect(tx.finished).toBe(true)
      expect(await pool.query(`SELECT name, n FROM ${table}`)).toEqual([{ name: 'keep', n: 1 }])
    })

    test('uncommitted writes are not visible outside the transaction', async () => {
      const tx = await pool.begin()
      try {
        await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['hidden', 1])
        expect(await pool.queryOne(`SELECT name FROM ${table} WHERE name = ?`, ['hidden'])).toBeNull()
      } finally {
        await tx.rollback()
      }
    })

    test('a transaction holds one connection until it finishes', async () => {
      const before = pool.status().inUse
      const tx = await pool.begin()
      expect(pool.status().inUse).toBe(before + 1)
      await tx.commit()
      expect(pool.status().inUse).toBe(before)
    })

    test('tx.execute lastInsertId matches the backend rule', async () => {
      const tx = await pool.begin()
      const res = await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['txid', 1])
      await tx.commit()
      if (backend.name === 'postgres') {
        expect(res.lastInsertId).toBeNull()
      } else {
        expect(typeof res.lastInsertId).toBe('number')
        expect(await pool.queryOne(`SELECT name FROM ${table} WHERE id = ?`, [res.lastInsertId])).toEqual({ name: 'txid' })
      }
    })
  })

  describe('transaction(fn)', () => {
    test('commits when fn resolves and returns fn’s value', async () => {
      const value = await pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['fn1', 1])
        await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['fn2', 2])
        return { ok: true, count: (await tx.queryOne(`SELECT COUNT(*) AS c FROM ${table}`)).c }
      })
      expect(value).toEqual({ ok: true, count: 2 })
      expect(await names()).toEqual(['fn1', 'fn2'])
      expect(pool.status().inUse).toBe(0)
    })

    test('rolls back when fn throws and rethrows the very same error', async () => {
      const boom = new Error('boom')
      let caught
      try {
        await pool.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['gone', 1])
          throw boom
        })
      } catch (e) {
        caught = e
      }
      expect(caught).toBe(boom)
      expect(await names()).toEqual([])
      expect(pool.status().inUse).toBe(0)
    })

    test('rolls back when a statement inside fails, rejecting with that QUERY_FAILED', async () => {
      await pool.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['dup', 0])
      await expectDbError(
        pool.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['ok-row', 1])
          await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['dup', 2])
        }),
        'QUERY_FAILED',
      )
      expect(await names()).toEqual(['dup'])
    })

    test('fn may finish the transaction itself (explicit rollback is respected)', async () => {
      const out = await pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (name, n) VALUES (?, ?)`, ['self', 1])
        await tx.rollback()
        return 'rolled'
      })
      expect(out).toBe('rolled')
      expect(await names()).toEqual([])
    })
  })

  test('status() returns the documented shape with consistent figures', async () => {
    const p = openPool(backend, { maxConnections: 3, minConnections: 1 })
    try {
      await p.connect()
      const s = p.status()
      expect(Object.keys(s).sort()).toEqual(
        ['closed', 'idle', 'inUse', 'maxConnections', 'minConnections', 'size', 'waiting'].sort(),
      )
      expect(s).toMatchObject({ maxConnections: 3, minConnections: 1, closed: false, inUse: 0, waiting: 0 })
      for (const k of ['size', 'idle', 'inUse', 'waiting', 'maxConnections', 'minConnections']) {
        expect(Number.isInteger(s[k])).toBe(true)
      }
      expect(s.size).toBeGreaterThanOrEqual(1)
      expect(s.idle + s.inUse).toBe(s.size)

      const tx = await p.begin()
      const held = p.status()
      expect(held.inUse).toBe(1)
      expect(held.idle + held.inUse).toBe(held.size)
      await tx.rollback()
      expect(p.status().inUse).toBe(0)
    } finally {
      await p.close()
    }
  })

  test('closed getter and status().closed flip as soon as close() is called; close() is idempotent', async () => {
    // Checked on several pools: the flag must not depend on when the
    // background close task happens to run.
    const seen = []
    for (let i = 0; i < 10; i++) {
      const p = openPool(backend)
      await p.query('SELECT 1 AS x')
      expect(p.closed).toBe(false)
      expect(p.status().closed).toBe(false)
      const closing = p.close()
      // The pool refuses new work from this moment, so it reports closed.
      seen.push([p.closed, p.status().closed])
      await closing
      expect(p.closed).toBe(true)
      expect(p.status().closed).toBe(true)
      expect(p.status().size).toBe(0)
      await expect(p.close()).resolves.toBeUndefined()
      await expect(Promise.all([p.close(), p.close()])).resolves.toEqual([undefined, undefined])
      expect(p.closed).toBe(true)
    }
    expect(seen).toEqual(Array.from({ length: 10 }, () => [true, true]))
  })

  test('close() on a pool that never connected resolves', async () => {
    const p = openPool(backend)
    await expect(p.close()).resolves.toBeUndefined()
    expect(p.closed).toBe(true)
  })

  test('identifiers quoted per backend work (helpers.q)', async () => {
    const t = tableName('Quoted')
    try {
      await pool.execute(`CREATE TABLE ${q(backend.name, t)} (${q(backend.name, 'userId')} ${T.int})${tableOptions(backend.name)}`)
      await pool.execute(`INSERT INTO ${q(backend.name, t)} (${q(backend.name, 'userId')}) VALUES (?)`, [5])
      expect(await pool.query(`SELECT ${q(backend.name, 'userId')} FROM ${q(backend.name, t)}`)).toEqual([{ userId: 5 }])
    } finally {
      await dropTable(pool, t)
    }
  })
})
