'use strict'
// cleanupExpiredSessions({ table, now }) deletes exactly the rows whose
// `expires` is before `now`, reading `expires` as Prisma stores it: SQLite
// integer Unix ms (native engine) and ISO text (driver adapters), PostgreSQL
// TIMESTAMP(3), MySQL DATETIME(3) (UTC). NULL and future rows stay. It
// returns { deleted: n } exactly. A table name that is not a plain
// identifier is refused with INVALID_ARGUMENT and nothing runs. With
// sessionCleanupIntervalMs, expired rows disappear by themselves.
const { backends, openPool, tableName, tableOptions, dropTable, expectDbError, q } = require('./helpers')

/** The Shopify template's Prisma `Session` model, as Prisma creates it. */
function createSessionTable(pool, table) {
  const b = pool.backend
  if (b === 'sqlite') {
    return pool.execute(`CREATE TABLE "${table}" (
      "id" TEXT NOT NULL PRIMARY KEY, "shop" TEXT NOT NULL, "state" TEXT NOT NULL,
      "isOnline" BOOLEAN NOT NULL DEFAULT false, "scope" TEXT, "expires" DATETIME,
      "accessToken" TEXT NOT NULL, "userId" BIGINT, "firstName" TEXT, "lastName" TEXT,
      "email" TEXT, "accountOwner" BOOLEAN NOT NULL DEFAULT false, "locale" TEXT,
      "collaborator" BOOLEAN DEFAULT false, "emailVerified" BOOLEAN DEFAULT false,
      "refreshToken" TEXT, "refreshTokenExpires" DATETIME)`)
  }
  if (b === 'postgres') {
    return pool.execute(`CREATE TABLE "${table}" (
      "id" TEXT NOT NULL, "shop" TEXT NOT NULL, "state" TEXT NOT NULL,
      "isOnline" BOOLEAN NOT NULL DEFAULT false, "scope" TEXT, "expires" TIMESTAMP(3),
      "accessToken" TEXT NOT NULL, "userId" BIGINT, "firstName" TEXT, "lastName" TEXT,
      "email" TEXT, "accountOwner" BOOLEAN NOT NULL DEFAULT false, "locale" TEXT,
      "collaborator" BOOLEAN DEFAULT false, "emailVerified" BOOLEAN DEFAULT false,
      CONSTRAINT "${table}_pkey" PRIMARY KEY ("id"))`)
  }
  return pool.execute(`CREATE TABLE \`${table}\` (
    \`id\` VARCHAR(191) NOT NULL, \`shop\` VARCHAR(191) NOT NULL, \`state\` VARCHAR(191) NOT NULL,
    \`isOnline\` BOOLEAN NOT NULL DEFAULT false, \`scope\` TEXT NULL, \`expires\` DATETIME(3) NULL,
    \`accessToken\` VARCHAR(191) NOT NULL, \`userId\` BIGINT NULL, \`firstName\` VARCHAR(191) NULL,
    \`lastName\` VARCHAR(191) NULL, \`email\` VARCHAR(191) NULL, \`accountOwner\` BOOLEAN NOT NULL DEFAULT false,
    \`locale\` VARCHAR(191) NULL, \`collaborator\` BOOLEAN NULL DEFAULT false,
    \`emailVerified\` BOOLEAN NULL DEFAULT false, PRIMARY KEY (\`id\`))${tableOptions('mysql')}`)
}

/**
 * Inserts a session whose `expires` is `value`: on SQLite a number (stored
 * as INTEGER ms) or a string (stored as TEXT) or null; on servers a
 * 'YYYY-MM-DD HH:MM:SS.mmm' UTC wall-clock string or null.
 */
function insertSession(pool, table, id, value) {
  const t = q(pool.backend, table)
  const cols = `(${['id', 'shop', 'state', 'isOnline', 'accessToken', 'expires'].map((c) => q(pool.backend, c)).join(', ')})`
  let expires = '?'
  if (value !== null && pool.backend === 'postgres') expires = 'CAST(? AS TIMESTAMP(3))'
  if (value !== null && pool.backend === 'mysql') expires = 'CAST(? AS DATETIME(3))'
  return pool.execute(`INSERT INTO ${t} ${cols} VALUES (?, 'shop.myshopify.com', 'state', ?, 'token', ${expires})`, [id, false, value])
}

async function ids(pool, table) {
  const rows = await pool.query(`SELECT ${q(pool.backend, 'id')} AS id FROM ${q(pool.backend, table)} ORDER BY ${q(pool.backend, 'id')}`)
  return rows.map((r) => r.id)
}

async function count(pool, table) {
  const row = await pool.queryOne(`SELECT COUNT(*) AS n FROM ${q(pool.backend, table)}`)
  return Number(row.n)
}

/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC. */
const wall = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0, 0)

describe('cleanupExpiredSessions on SQLite: both Prisma date formats', () => {
  let pool
  const table = 'Session'
  beforeEach(async () => {
    pool = openPool({ name: 'sqlite', url: backends()[0].url })
    await createSessionTable(pool, table)
  })
  afterEach(async () => {
    await pool.close()
  })

  async function seed() {
    const rows = [
      ['int-past', Date.UTC(2020, 0, 1)],
      ['int-just-before', NOW - 1],
      ['int-at-now', NOW],
      ['int-just-after', NOW + 1],
      ['int-future', Date.UTC(2030, 0, 1)],
      ['iso-offset-past', '2020-01-01T00:00:00.000+00:00'],
      ['iso-space-past', '2020-01-01 00:00:00'],
      ['iso-z-past', '2020-01-01T00:00:00.000Z'],
      ['iso-just-before', new Date(NOW - 1).toISOString().replace('Z', '+00:00')],
      ['iso-at-now', new Date(NOW).toISOString().replace('Z', '+00:00')],
      ['iso-just-after', new Date(NOW + 1).toISOString().replace('Z', '+00:00')],
      ['iso-other-zone-past', '2025-06-01T13:59:59.999+02:00'], // 11:59:59.999Z
      ['iso-other-zone-future', '2025-06-01T14:00:00.001+02:00'], // 12:00:00.001Z
      ['iso-future', '2030-01-01T00:00:00.000+00:00'],
      ['iso-space-future', '2030-01-01 00:00:00'],
      ['null', null],
    ]
    for (const [id, value] of rows) await insertSession(pool, table, id, value)
    // The fixture really holds both storage classes.
    const kinds = await pool.query(`SELECT id, typeof("expires") AS t FROM "${table}"`)
    const kind = Object.fromEntries(kinds.map((r) => [r.id, r.t]))
    expect(kind['int-past']).toBe('integer')
    expect(kind['iso-space-past']).toBe('text')
    expect(kind['null']).toBe('null')
  }

  test('deletes exactly the expired rows (integer ms and ISO text), keeps NULL, future and "exactly now"', async () => {
    await seed()
    const result = await pool.cleanupExpiredSessions({ now: new Date(NOW) })
    expect(result).toEqual({ deleted: 7 })
    expect(await ids(pool, table)).toEqual(
      [
        'int-at-now',
        'int-future',
        'int-just-after',
        'iso-at-now',
        'iso-future',
        'iso-just-after',
        'iso-other-zone-future',
        'iso-space-future',
        'null',
      ].sort(),
    )
    // Running again deletes nothing.
    expect(await pool.cleanupExpiredSessions({ now: new Date(NOW) })).toEqual({ deleted: 0 })
  })

  test('{ now } is respected: an earlier now deletes only what expired before it', async () => {
    await seed()
    expect(await pool.cleanupExpiredSessions({ now: new Date(Date.UTC(2021, 0, 1)) })).toEqual({ deleted: 4 })
    expect(await ids(pool, table)).not.toContain('int-past')
    expect(await ids(pool, table)).toContain('int-just-before')
    expect(await pool.cleanupExpiredSessions({ now: new Date(NOW) })).toEqual({ deleted: 3 })
    expect(await pool.cleanupExpiredSessions({ now: new Date(Date.UTC(2031, 0, 1)) })).toEqual({ deleted: 8 })
    expect(await ids(pool, table)).toEqual(['null'])
  })

  test('default now is the current time; default table is Session', async () => {
    const now = Date.now()
    await insertSession(pool, table, 'expired-int', now - 60000)
    await insertSession(pool, table, 'expired-iso', new Date(now - 60000).toISOString())
    await insertSession(pool, table, 'live-int', now + 3600000)
    await insertSession(pool, table, 'live-iso', new Date(now + 3600000).toISOString())
    expect(await pool.cleanupExpiredSessions()).toEqual({ deleted: 2 })
    expect(await ids(pool, table)).toEqual(['live-int', 'live-iso'])
  })

  test('an invalid now is refused with INVALID_ARGUMENT and nothing is deleted', async () => {
    await seed()
    await expectDbError(pool.cleanupExpiredSessions({ now: new Date('nonsense') }), 'INVALID_ARGUMENT')
    await expectDbError(pool.cleanupExpiredSessions({ now: 'yesterday' }), 'INVALID_ARGUMENT')
    expect(await count(pool, table)).toBe(16)
  })
})

describe.each(backends())('cleanupExpiredSessions on $name (named table)', (backend) => {
  let pool
  let table
  beforeEach(async () => {
    pool = openPool(backend)
    table = tableName('Session')
    await createSessionTable(pool, table)
  })
  afterEach(async () => {
    await dropTable(pool, table)
    await pool.close()
  })

  async function seed() {
    const value = (ms) => (backend.name === 'sqlite' ? ms : wall(ms))
    const rows = [
      ['past', value(Date.UTC(2020, 0, 1))],
      ['just-before', value(NOW - 1)],
      ['at-now', value(NOW)],
      ['just-after', value(NOW + 1)],
      ['future', value(Date.UTC(2030, 0, 1))],
      ['null', null],
    ]
    for (const [id, v] of rows) await insertSession(pool, table, id, v)
  }

  test('deletes exactly the rows expired before now and returns the count', async () => {
    await seed()
    expect(await pool.cleanupExpiredSessions({ table, now: new Date(NOW) })).toEqual({ deleted: 2 })
    expect(await ids(pool, table)).toEqual(['at-now', 'future', 'just-after', 'null'])
    expect(await pool.cleanupExpiredSessions({ table, now: new Date(NOW) })).toEqual({ deleted: 0 })
    expect(await pool.cleanupExpiredSessions({ table, now: new Date(NOW + 2) })).toEqual({ deleted: 2 })
    expect(await ids(pool, table)).toEqual(['future', 'null'])
  })

  test('a schema-qualified name works (schema.table)', async () => {
    await seed()
    const schema =
      backend.name === 'postgres' ? 'public' : backend.name === 'mysql' ? new URL(backend.url()).pathname.slice(1) : 'main'
    expect(await pool.cleanupExpiredSessions({ table: `${schema}.${table}`, now: new Date(NOW) })).toEqual({ deleted: 2 })
    expect(await count(pool, table)).toBe(4)
  })

  test('hostile table names are refused with INVALID_ARGUMENT; nothing runs; the table is intact', async () => {
    await seed()
    const before = await count(pool, table)
    const queries = pool.metrics().queriesTotal
    const hostile = [
      'Session; DROP TABLE x',
      `${table}; DROP TABLE ${table}`,
      `${table}; DELETE FROM ${table}`,
      '"Session"',
      `"${table}"`,
      'a.b.c',
      '`x`',
      `\`${table}\``,
      `${table} WHERE 1=1 --`,
      `${table}--`,
      `${table}/**/`,
      `[${table}]`,
      `${table}'`,
      `${table}\u0000`,
      `Séssion`,
      '',
      ' ',
      '1Session',
      `${table}.`,
      `.${table}`,
    ]
    for (const name of hostile) {
      const err = await expectDbError(pool.cleanupExpiredSessions({ table: name, now: new Date(Date.UTC(2031, 0, 1)) }), 'INVALID_ARGUMENT')
      expect(typeof err.message).toBe('string')
    }
    await expectDbError(pool.cleanupExpiredSessions({ table: 42 }), 'INVALID_ARGUMENT')
    // Nothing reached the database.
    expect(pool.metrics().queriesTotal).toBe(queries)
    expect(await count(pool, table)).toBe(before)
    expect(before).toBe(6)
  })

  test('a table that does not exist is a QUERY_FAILED rejection', async () => {
    await expectDbError(pool.cleanupExpiredSessions({ table: tableName('NoSuchSession') }), 'QUERY_FAILED')
  })
})

describe('background session cleanup (sessionCleanupIntervalMs) on SQLite', () => {
  test('expired rows of the Session table disappear by themselves; live and NULL ones stay', async () => {
    const pool = openPool({ url: backends()[0].url }, { sessionCleanupIntervalMs: 200 })
    try {
      await createSessionTable(pool, 'Session')
      const now = Date.now()
      await insertSession(pool, 'Session', 'gone-int', now - 60000)
      await insertSession(pool, 'Session', 'gone-iso', new Date(now - 60000).toISOString().replace('Z', '+00:00'))
      await insertSession(pool, 'Session', 'gone-space', '2020-01-01 00:00:00')
      await insertSession(pool, 'Session', 'live-int', now + 3600000)
      await insertSession(pool, 'Session', 'live-iso', new Date(now + 3600000).toISOString())
      await insertSession(pool, 'Session', 'no-expiry', null)
      let remaining = await ids(pool, 'Session')
      const until = Date.now() + 3000
      while (remaining.length !== 3 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50))
        remaining = await ids(pool, 'Session')
      }
      expect(remaining).toEqual(['live-int', 'live-iso', 'no-expiry'])
      // It keeps going: a session that expires later is removed too.
      await insertSession(pool, 'Session', 'gone-later', Date.now() - 1)
      let later = await ids(pool, 'Session')
      const until2 = Date.now() + 3000
      while (later.includes('gone-later') && Date.now() < until2) {
        await new Promise((r) => setTimeout(r, 50))
        later = await ids(pool, 'Session')
      }
      expect(later).toEqual(['live-int', 'live-iso', 'no-expiry'])
    } finally {
      await pool.close()
    }
  })
})
