'use strict'
// Whether a PostgreSQL connection is encrypted: asked of the server
// (pg_stat_ssl), never inferred from our own options.
//
// With no sslmode in the URL (and no PGSSLMODE), a server on this host is
// reached in plain text first: TLS between two processes on one host
// protects nothing and costs throughput. Anywhere else, and whenever the URL
// says so, sqlx's `prefer` and the other modes apply as libpq defines them.
const { Pool } = require('./helpers')

const PG = process.env.TEST_POSTGRES_URL
const describePg = PG ? describe : describe.skip

/** The URL with its host replaced and `extra` query parameters added. */
function urlWith(host, extra = {}) {
  const u = new URL(PG)
  u.hostname = host
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v)
  return u.toString()
}

async function encrypted(url) {
  const pool = new Pool({ url, maxConnections: 1 })
  try {
    const row = await pool.queryOne('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
    return row.ssl
  } finally {
    await pool.close()
  }
}

describePg('PostgreSQL transport security', () => {
  let serverOffersTls
  beforeAll(async () => {
    const pool = new Pool({ url: PG, maxConnections: 1 })
    serverOffersTls = (await pool.queryOne('SHOW ssl')).ssl === 'on'
    await pool.close()
  })

  test.each(['127.0.0.1', 'localhost'])('a server on this host (%s) without sslmode is reached in plain text', async (host) => {
    expect(await encrypted(urlWith(host))).toBe(false)
  })

  test('sslmode=disable is plain text', async () => {
    expect(await encrypted(urlWith('127.0.0.1', { sslmode: 'disable' }))).toBe(false)
  })

  test('sslmode=prefer in the URL still encrypts when the server offers TLS', async () => {
    expect(await encrypted(urlWith('127.0.0.1', { sslmode: 'prefer' }))).toBe(serverOffersTls)
  })

  test('sslmode=require fails clearly against a server without TLS, encrypts otherwise', async () => {
    const url = urlWith('127.0.0.1', { sslmode: 'require' })
    if (serverOffersTls) {
      expect(await encrypted(url)).toBe(true)
    } else {
      await expect(encrypted(url)).rejects.toMatchObject({ code: 'CONNECTION_FAILED' })
    }
  })
})
