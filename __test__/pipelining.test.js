'use strict'
// `pipelining: true` (PostgreSQL): reads outside transactions share two
// connections, several in flight on each. Each test pins one behaviour:
// the same values as the leased path, errors with the same codes, writes
// and session statements kept off the shared connections, the connection
// cap, timeouts, close(), and a lane whose backend was killed.
const { Pool, tableName, expectDbError, sleep, waitFor } = require('./helpers')

const PG = process.env.TEST_POSTGRES_URL
const pgTest = PG ? describe : describe.skip

function piped(options = {}) {
  return new Pool({ url: PG, maxConnections: 5, pipelining: true, applicationName: appName(), ...options })
}

/** A slow statement the pipeline takes (`pg_sleep` alone returns `void`,
 * a column type it leaves to the leased path). */
function sleepSql(seconds) {
  return `SELECT pg_sleep(${seconds})::text AS slept`
}

let names = 0
function appName() {
  names += 1
  return `sdp-piped-${process.pid}-${names}`
}

/** Server connections opened under `name`, seen from another pool. */
async function serverConnections(observer, name) {
  const row = await observer.queryOne('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ?', [name])
  return row.n
}

describe('pipelining options', () => {
  test('refused where it cannot work, with the reason', () => {
    const cases = [
      [{ url: 'file::memory:' }, /only PostgreSQL/],
      [{ url: 'postgres://u@127.0.0.1/db', maxConnections: 2 }, /maxConnections of at least 3/],
      [{ url: 'postgres://u@127.0.0.1/db?pgbouncer=true' }, /statement cache/],
      [{ url: 'postgres://u@127.0.0.1/db', statementCache: false }, /statement cache/],
      [{ url: 'postgres://u@db.example.com/db' }, /TLS/],
      [{ url: 'postgres://u@127.0.0.1/db?sslmode=require' }, /TLS/],
    ]
    for (const [options, message] of cases) {
      let error
      try {
        new Pool({ ...options, pipelining: true })
      } catch (e) {
        error = e
      }
      expect(error && error.code).toBe('INVALID_ARGUMENT')
      expect(error.message).toMatch(message)
    }
    expect(new Pool({ url: 'postgres://u@db.example.com/db?sslmode=disable', pipelining: true }).options.pipelining).toBe(true)
    expect(new Pool({ url: 'postgres://u@127.0.0.1/db' }).options.pipelining).toBe(false)
  })
})

pgTest('pipelining on PostgreSQL', () => {
  let pool
  let leased
  const table = tableName('piped')

  beforeAll(async () => {
    pool = piped()
    leased = new Pool({ url: PG, maxConnections: 3 })
    await leased.execute(`CREATE TYPE mood_${process.pid} AS ENUM ('calm', 'busy')`).catch(() => {})
    await leased.execute(`CREATE TABLE "${table}" (
      id BIGSERIAL PRIMARY KEY, shop TEXT UNIQUE, n INTEGER, small SMALLINT, big BIGINT, f DOUBLE PRECISION,
      r REAL, ok BOOLEAN, amount NUMERIC(30,10), doc JSONB, raw JSON, bin BYTEA, uid UUID,
      at TIMESTAMP(3), atz TIMESTAMPTZ, day DATE, t TIME, tags TEXT[], nums INTEGER[], mood mood_${process.pid},
      span INTERVAL, addr INET, code CHAR(3), v VARCHAR(20))`)
  })

  afterAll(async () => {
    await leased.execute(`DROP TABLE IF EXISTS "${table}"`)
    await leased.execute(`DROP TYPE IF EXISTS mood_${process.pid}`)
    await Promise.all([pool.close(), leased.close()])
  })

  test('rows and parameters come back as on a leased connection, every type', async () => {
    const row = [
      'shop-a', '7', 3, 2 ** 40, 1.5, 0.25, true, '12345.6789000000', { a: [1, 'x'] }, [1, 2], Buffer.from([0, 1, 255]),
      '0b4f2a4e-6c1d-4a3e-9a55-9d1d6f1e2c3b', new Date('2024-03-04T05:06:07.089Z'), '2024-03-04T05:06:07.089+02:00',
      '2024-03-04', ['x', null, 'z'], [1, null, 3], 'busy', 'abc', 'vv',
    ]
    const columns = 'shop, n, small, big, f, r, ok, amount, doc, raw, bin, uid, at, atz, day, tags, nums, mood, code, v'
    const marks = row.map(() => '?').join(', ')
    const done = await pool.execute(`INSERT INTO "${table}" (${columns}) VALUES (${marks})`, row)
    expect(done.rowsAffected).toBe(1)
    // Types no parameter takes (on either path): written as literals.
    await pool.execute(`UPDATE "${table}" SET t = '13:14:15', span = '1 day 02:00:00', addr = '10.0.0.1' WHERE shop = ?`, ['shop-a'])
    // Without the interval and inet columns (the pipeline's own decoding)...
    const some = `SELECT id, shop, n, small, big, f, r, ok, amount, doc, raw, bin, uid, at, atz, day, t, tags, nums, mood, code, v FROM "${table}" WHERE shop = ?`
    const ours = await pool.queryOne(some, ['shop-a'])
    expect(ours).toEqual(await leased.queryOne(some, ['shop-a']))
    expect(ours.n).toBe(7)
    expect(ours.big).toBe(2 ** 40)
    expect(ours.amount).toBe('12345.6789000000')
    expect(ours.doc).toEqual({ a: [1, 'x'] })
    expect(ours.at).toEqual(new Date('2024-03-04T05:06:07.089Z'))
    expect(ours.tags).toEqual(['x', null, 'z'])
    expect(ours.mood).toBe('busy')
    // ...and with them (types it leaves to the leased path).
    const all = `SELECT * FROM "${table}" WHERE shop = ?`
    expect(await pool.query(all, ['shop-a'])).toEqual(await leased.query(all, ['shop-a']))
  })

  test('parameters are typed by the server, and a statement first prepared for a number takes a string', async () => {
    expect(await pool.queryOne('SELECT ? AS v', [5])).toEqual({ v: 5 })
    expect(await pool.queryOne('SELECT ? AS v', ['five'])).toEqual({ v: 'five' })
    const found = await pool.query(`SELECT shop FROM "${table}" WHERE uid = ? AND n = ANY(?)`, ['0b4f2a4e-6c1d-4a3e-9a55-9d1d6f1e2c3b', [7, 8]])
    expect(found).toEqual([{ shop: 'shop-a' }])
    const typed = await pool.query(
      `SELECT shop FROM "${table}" WHERE small = ? AND big = ? AND f = ? AND ok = ? AND amount = ? AND doc = ? AND bin = ? AND at = ? AND atz = ? AND day = ? AND mood = ?`,
      [3, 2 ** 40, 1.5, true, '12345.6789', { a: [1, 'x'] }, Buffer.from([0, 1, 255]), new Date('2024-03-04T05:06:07.089Z'), '2024-03-04T05:06:07.089+02:00', '2024-03-04', 'busy'],
    )
    expect(typed).toEqual([{ shop: 'shop-a' }])
  })

  test('errors carry the same codes and SQLSTATE', async () => {
    const zero = await expectDbError(pool.queryOne('SELECT 1 / (? - 1) AS x', [1]), 'QUERY_FAILED')
    expect(zero.sqlState).toBe('22012')
    const missing = await expectDbError(pool.query('SELECT * FROM no_such_table_here'), 'QUERY_FAILED')
    expect(missing.sqlState).toBe('42P01')
    await expectDbError(pool.query(`SELECT * FROM "${table}" WHERE uid = ?`, ['not-a-uuid']), 'INVALID_ARGUMENT')
    await expectDbError(pool.query('SELECT ?::int AS a, ?::int AS b', [1]), 'INVALID_ARGUMENT')
    // The lanes still serve.
    expect(await pool.queryOne('SELECT 1 AS one')).toEqual({ one: 1 })
  })

  test('many calls in flight each get their own answer', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => i)
    const answers = await Promise.all(ids.map((i) => pool.queryOne('SELECT ?::int AS i, repeat(?, 3) AS s', [i, String(i)])))
    answers.forEach((row, i) => expect(row).toEqual({ i, s: String(i).repeat(3) }))
  })

  test('no more than maxConnections are opened: two lanes, the rest leased', async () => {
    const name = appName()
    const small = piped({ maxConnections: 3, applicationName: name })
    const busy = Array.from({ length: 50 }, () => small.queryOne(sleepSql(0.05)))
    const tx = await small.begin()
    await tx.query('SELECT 1')
    // The second lane opens once the first is busy.
    await waitFor(() => small.status().size === 3, 5000, 'both lanes open')
    expect(small.status()).toMatchObject({ size: 3, inUse: 3, waiting: 0 })
    expect(await serverConnections(leased, name)).toBeLessThanOrEqual(3)
    await tx.commit()
    await Promise.all(busy)
    expect(small.status().inUse).toBe(0)
    await small.close()
  })

  test('writes, session statements and transactions stay off the shared connections', async () => {
    const name = appName()
    const writer = piped({ applicationName: name })
    const result = await writer.execute(`INSERT INTO "${table}" (shop) VALUES (?) RETURNING id`, ['written'])
    expect(result.rowsAffected).toBe(1)
    // A write (and the read before it) opened no lane: one leased connection.
    expect(writer.status().size).toBe(1)
    expect((await writer.queryOne('SELECT 1 AS one')).one).toBe(1)
    expect(writer.status().size).toBe(2)
    await writer.close()

    const tx = await pool.begin()
    await tx.execute(`INSERT INTO "${table}" (shop) VALUES (?)`, ['uncommitted'])
    // A piped read does not see the open transaction's row...
    expect(await pool.query(`SELECT shop FROM "${table}" WHERE shop = ?`, ['uncommitted'])).toEqual([])
    await tx.commit()
    expect(await pool.query(`SELECT shop FROM "${table}" WHERE shop = ?`, ['uncommitted'])).toEqual([{ shop: 'uncommitted' }])
    // ...and a SET through the pool changes no lane.
    await pool.execute("SET application_name = 'changed'")
    const names = await Promise.all(Array.from({ length: 10 }, () => pool.queryOne("SELECT current_setting('application_name') AS n")))
    for (const { n } of names) expect(n).toMatch(/^sdp-piped-/)
  })

  test('statementTimeoutMs ends a slow statement with TIMEOUT and the lane goes on', async () => {
    const timed = piped({ statementTimeoutMs: 200 })
    const e = await expectDbError(timed.queryOne(sleepSql(2)), 'TIMEOUT')
    expect(e.message).toMatch(/statementTimeoutMs \(200 ms\)/)
    expect(await timed.queryOne('SELECT 2 AS two')).toEqual({ two: 2 })
    await timed.close()
  })

  test('close() lets piped calls finish, then refuses and closes the lanes', async () => {
    const name = appName()
    const closing = piped({ applicationName: name })
    // Both lanes open first: a call still waiting for a connection when
    // close() begins is refused, as on the leased path.
    await Promise.all(Array.from({ length: 4 }, () => closing.queryOne(sleepSql(0.05))))
    const running = Array.from({ length: 20 }, (_, i) => closing.queryOne(`${sleepSql(0.1)}, ?::int AS i`, [i]))
    await sleep(20)
    // On the lanes, not waiting for leases.
    expect(closing.status()).toMatchObject({ size: 2, inUse: 2, waiting: 0 })
    await closing.close()
    const rows = await Promise.all(running)
    rows.forEach((row, i) => expect(row.i).toBe(i))
    await expectDbError(closing.queryOne('SELECT 1'), 'POOL_CLOSED')
    for (let i = 0; i < 50 && (await serverConnections(leased, name)) > 0; i++) await sleep(20)
    expect(await serverConnections(leased, name)).toBe(0)
  })

  test('a lane whose backend was killed is replaced', async () => {
    const name = appName()
    const victim = piped({ applicationName: name })
    await Promise.all(Array.from({ length: 10 }, () => victim.queryOne('SELECT 1')))
    const killed = await leased.query('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = ?', [name])
    // The lanes were there to kill, and are gone (the pool has no leased one).
    expect(victim.status().size).toBe(killed.length)
    expect(killed.length).toBeGreaterThan(0)
    expect(killed.every((row) => row.done === true)).toBe(true)
    // The calls that meet the dead connection fail as CONNECTION_FAILED;
    // the following ones run on a new lane.
    let answered = null
    for (let i = 0; i < 20 && !answered; i++) {
      answered = await victim.queryOne('SELECT 3 AS three').catch((e) => {
        expect(e.code).toBe('CONNECTION_FAILED')
        return null
      })
    }
    expect(answered).toEqual({ three: 3 })
    await victim.close()
  })

  test('piped statements are counted in the metrics', async () => {
    const counting = piped()
    await Promise.all(Array.from({ length: 5 }, () => counting.queryOne('SELECT 1')))
    await counting.query('SELECT * FROM no_such_table_here').catch(() => {})
    const m = counting.metrics()
    expect(m.queriesTotal).toBe(6)
    expect(m.errorsByCode.QUERY_FAILED).toBe(1)
    await counting.close()
  })
})
