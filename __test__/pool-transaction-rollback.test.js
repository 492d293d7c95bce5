'use strict'
// Pool behaviour: a transaction whose fn throws inside transaction(fn) is
// rolled back: none of its writes are there, and its connection goes back
// to the pool clean (no transaction left open on it).
const { Pool, backends, tableName, TYPES, tableOptions, dropTable } = require('./helpers')

describe.each(backends())('transaction rollback on $name', (backend) => {
  const T = TYPES[backend.name]
  let url
  let pool
  let other
  let table

  beforeAll(async () => {
    url = backend.url()
    // One connection, so the next call reuses the rolled-back connection.
    pool = new Pool({ url, maxConnections: 1 })
    other = new Pool({ url, maxConnections: 1 })
    table = tableName('txrb')
    await pool.execute(`CREATE TABLE ${table} (id ${T.int} PRIMARY KEY, v ${T.text})${tableOptions(backend.name)}`)
  })

  afterAll(async () => {
    await dropTable(pool, table)
    await pool.close()
    await other.close()
  })

  beforeEach(async () => {
    await pool.execute(`DELETE FROM ${table}`)
    await pool.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [1, 'original'])
  })

  async function rows() {
    return other.query(`SELECT id, v FROM ${table} ORDER BY id`)
  }

  test('a throw after writes: the inserted row is not there, updates and deletes are undone', async () => {
    const boom = new Error('boom')
    await expect(
      pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [2, 'new'])
        await tx.execute(`UPDATE ${table} SET v = ? WHERE id = ?`, ['changed', 1])
        await tx.execute(`DELETE FROM ${table} WHERE id = ?`, [1])
        expect(await tx.query(`SELECT id FROM ${table}`)).toEqual([{ id: 2 }])
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(await rows()).toEqual([{ id: 1, v: 'original' }])
    expect(await pool.queryOne(`SELECT id FROM ${table} WHERE id = ?`, [2])).toBeNull()
  })

  test('a rejection from an awaited failing statement rolls back the earlier writes', async () => {
    let caught
    try {
      await pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [3, 'three'])
        await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [1, 'duplicate key'])
      })
    } catch (e) {
      caught = e
    }
    expect(caught && caught.code).toBe('QUERY_FAILED')
    expect(await rows()).toEqual([{ id: 1, v: 'original' }])
  })

  test('a non-Error throw (a string) is rethrown as is and still rolls back', async () => {
    let caught
    try {
      await pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [4, 'four'])
        throw 'plain string' // eslint-disable-line no-throw-literal
      })
    } catch (e) {
      caught = e
    }
    expect(caught).toBe('plain string')
    expect(await rows()).toEqual([{ id: 1, v: 'original' }])
  })

  test('the connection comes back clean: the next autocommit write is visible to another pool at once', async () => {
    await expect(
      pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [5, 'five'])
        throw new Error('undo')
      }),
    ).rejects.toThrow('undo')
    // Same (only) connection, outside any transaction now.
    await pool.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [6, 'six'])
    expect(await rows()).toEqual([
      { id: 1, v: 'original' },
      { id: 6, v: 'six' },
    ])
    expect(pool.status().inUse).toBe(0)
  })

  test('a rolled-back transaction followed by a committed one keeps only the committed writes', async () => {
    await expect(
      pool.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [7, 'seven'])
        throw new Error('no')
      }),
    ).rejects.toThrow('no')
    const value = await pool.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [8, 'eight'])
      return 'done'
    })
    expect(value).toBe('done')
    expect(await rows()).toEqual([
      { id: 1, v: 'original' },
      { id: 8, v: 'eight' },
    ])
  })
})
