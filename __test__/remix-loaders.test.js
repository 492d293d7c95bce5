'use strict'
// The Remix route factories against real pools: status codes, headers and
// bodies for a healthy SQLite database, a saturated (degraded) pool, an
// unreachable server (a closed port), the bearer token (option and
// HEALTH_TOKEN), and maintenanceAction's method check and its real work.
const net = require('node:net')
const parsePrometheus = require('parse-prometheus-text-format')
const {
  databaseHealthLoader,
  detailedHealthLoader,
  metricsLoader,
  maintenanceAction,
} = require('../lib/index.js')
const { Pool, sqliteUrl, backends, tableName, q, waitFor, expectThrowsDbError } = require('./helpers.js')
const { createSessionTable } = require('./session-table.js')

const TOKEN = 's3cret-token'
const pools = []

function track(pool) {
  pools.push(pool)
  return pool
}

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

function get(path, headers = {}) {
  return new Request(`http://localhost${path}`, { headers })
}

function post(path, headers = {}) {
  return new Request(`http://localhost${path}`, { method: 'POST', headers })
}

function bearer(token) {
  return { Authorization: `Bearer ${token}` }
}

/** What Remix v2 / React Router v7 pass to a route function. */
function args(request) {
  return { request, params: {}, context: {} }
}

function expectJson(response, status) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/json')
  expect(response.headers.get('cache-control')).toBe('no-store')
}

async function expectUnauthorized(response, { invalidToken }) {
  expectJson(response, 401)
  const challenge = response.headers.get('www-authenticate')
  expect(challenge).toMatch(/^Bearer\b/)
  if (invalidToken) expect(challenge).toContain('error="invalid_token"')
  else expect(challenge).not.toContain('error=')
  const body = await response.json()
  expect(body.error).toBe('unauthorized')
  return body
}

let savedToken
beforeEach(() => {
  savedToken = process.env.HEALTH_TOKEN
  delete process.env.HEALTH_TOKEN
})
afterEach(() => {
  if (savedToken === undefined) delete process.env.HEALTH_TOKEN
  else process.env.HEALTH_TOKEN = savedToken
})

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()))
})

describe('databaseHealthLoader', () => {
  test('healthy SQLite: 200, JSON, no-store, the checkHealth body', async () => {
    const pool = track(new Pool({ url: sqliteUrl('health') }))
    const loader = databaseHealthLoader(pool)
    const response = await loader(args(get('/health/database')))
    expectJson(response, 200)
    const body = await response.json()
    expect(body).toEqual({
      status: 'healthy',
      connection_time_ms: expect.any(Number),
      database_type: 'sqlite',
      pool_info: { max_connections: expect.any(Number), size: 1, idle: 1, in_use: 0, waiting: 0 },
      error: null,
      checked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    })
    expect(Date.now() - Date.parse(body.checked_at)).toBeLessThan(60_000)
  })

  test.each(backends().map((b) => [b.name, b]))('healthy %s: 200 with its database_type', async (name, backend) => {
    const pool = track(new Pool({ url: backend.url() }))
    const response = await databaseHealthLoader(pool)({ request: get('/health/database') })
    expectJson(response, 200)
    const body = await response.json()
    expect(body.status).toBe('healthy')
    expect(body.database_type).toBe(name)
    expect(body.error).toBeNull()
  })

  test('saturated pool (every connection in use, a caller waiting): degraded, still 200', async () => {
    const pool = track(new Pool({ url: sqliteUrl('saturated'), maxConnections: 1 }))
    const tx = await pool.begin()
    const waiting = pool.query('SELECT 1 AS x')
    await waitFor(() => pool.status().waiting === 1, 5000, 'a waiting caller')
    const response = await databaseHealthLoader(pool)(args(get('/health/database')))
    expectJson(response, 200)
    const body = await response.json()
    expect(body.status).toBe('degraded')
    expect(body.pool_info).toMatchObject({ max_connections: 1, in_use: 1, waiting: 1 })
    await tx.rollback()
    await expect(waiting).resolves.toEqual([{ x: 1 }])
  })

  test('unreachable server (closed port): 503 with the redacted error', async () => {
    const port = await closedPort()
    const pool = track(new Pool({ url: `postgres://app:hunter2@127.0.0.1:${port}/shop`, connectTimeoutMs: 2000 }))
    const response = await databaseHealthLoader(pool)(args(get('/health/database')))
    expectJson(response, 503)
    const text = await response.text()
    expect(text).not.toContain('hunter2')
    const body = JSON.parse(text)
    expect(body.status).toBe('unhealthy')
    expect(body.database_type).toBe('postgres')
    expect(body.error).toMatch(/CONNECTION_FAILED/)
  })

  test('closed pool: 503 unhealthy', async () => {
    const pool = new Pool({ url: sqliteUrl('closed') })
    await pool.close()
    const response = await databaseHealthLoader(pool)(args(get('/health/database')))
    expectJson(response, 503)
    expect((await response.json()).status).toBe('unhealthy')
  })

  test('public even when HEALTH_TOKEN is set (load balancers call it)', async () => {
    process.env.HEALTH_TOKEN = TOKEN
    const pool = track(new Pool({ url: sqliteUrl('public') }))
    const response = await databaseHealthLoader(pool)(args(get('/health/database')))
    expectJson(response, 200)
  })

  test('a factory refuses a non-pool at once', () => {
    expectThrowsDbError(() => databaseHealthLoader(undefined), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => detailedHealthLoader({}), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => metricsLoader(null), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => maintenanceAction(42), 'INVALID_ARGUMENT')
    const pool = track(new Pool({ url: sqliteUrl('args') }))
    expectThrowsDbError(() => detailedHealthLoader(pool, { token: 123 }), 'INVALID_ARGUMENT')
    expectThrowsDbError(() => maintenanceAction(pool, { table: 5 }), 'INVALID_ARGUMENT')
  })
})

describe('detailedHealthLoader', () => {
  let pool
  beforeAll(() => {
    pool = track(new Pool({ url: sqliteUrl('detailed') }))
  })

  test('no token configured: open, 200 with the detailed report', async () => {
    const response = await detailedHealthLoader(pool)(args(get('/health/detailed')))
    expectJson(response, 200)
    const body = await response.json()
    expect(Object.keys(body).sort()).toEqual(['checked_at', 'connection_pool', 'database', 'metrics', 'process', 'status'])
    expect(body.status).toBe('healthy')
    expect(body.database.status).toBe('healthy')
    expect(body.connection_pool).toMatchObject({ concurrent_queries: 3, all_queries_successful: true })
    expect(body.metrics.queriesTotal).toBeGreaterThan(0)
    expect(body.process.rss_bytes).toBeGreaterThan(0)
  })

  test('token option: 401 without a header, with a wrong one, with another scheme; 200 with the token', async () => {
    const loader = detailedHealthLoader(pool, { token: TOKEN })
    await expectUnauthorized(await loader(args(get('/health/detailed'))), { invalidToken: false })
    await expectUnauthorized(await loader(args(get('/health/detailed', { Authorization: `Basic ${TOKEN}` }))), {
      invalidToken: false,
    })
    await expectUnauthorized(await loader(args(get('/health/detailed', { Authorization: 'Bearer' }))), { invalidToken: false })
    // Wrong tokens of another length, the same length, and a prefix: all
    // compared as equal-length digests (timingSafeEqual would throw otherwise).
    for (const wrong of ['nope', TOKEN.replace(/.$/, 'X'), TOKEN.slice(0, 5), `${TOKEN}x`, TOKEN.toUpperCase()]) {
      await expectUnauthorized(await loader(args(get('/health/detailed', bearer(wrong)))), { invalidToken: true })
    }
    const ok = await loader(args(get('/health/detailed', bearer(TOKEN))))
    expectJson(ok, 200)
    expect((await ok.json()).status).toBe('healthy')
    // The scheme is case-insensitive (RFC 7235).
    expectJson(await loader(args(get('/health/detailed', { Authorization: `bearer ${TOKEN}` }))), 200)
  })

  test('HEALTH_TOKEN is read per request; an explicit token option wins over it', async () => {
    const loader = detailedHealthLoader(pool)
    process.env.HEALTH_TOKEN = TOKEN
    await expectUnauthorized(await loader(args(get('/health/detailed'))), { invalidToken: false })
    await expectUnauthorized(await loader(args(get('/health/detailed', bearer('other')))), { invalidToken: true })
    expectJson(await loader(args(get('/health/detailed', bearer(TOKEN)))), 200)

    const own = detailedHealthLoader(pool, { token: 'own-token' })
    await expectUnauthorized(await own(args(get('/health/detailed', bearer(TOKEN)))), { invalidToken: true })
    expectJson(await own(args(get('/health/detailed', bearer('own-token')))), 200)

    delete process.env.HEALTH_TOKEN
    expectJson(await loader(args(get('/health/detailed'))), 200)
  })

  test('unreachable server: 503 with the token, 401 without', async () => {
    const port = await closedPort()
    const down = track(new Pool({ url: `mysql://root:pw@127.0.0.1:${port}/x`, connectTimeoutMs: 2000 }))
    const loader = detailedHealthLoader(down, { token: TOKEN })
    await expectUnauthorized(await loader(args(get('/health/detailed'))), { invalidToken: false })
    const response = await loader(args(get('/health/detailed', bearer(TOKEN))))
    expectJson(response, 503)
    const body = await response.json()
    expect(body.status).toBe('unhealthy')
    expect(body.database.error).toMatch(/CONNECTION_FAILED/)
    expect(body.connection_pool.all_queries_successful).toBe(false)
  })
})

describe('metricsLoader', () => {
  test('Prometheus text 0.0.4, no-store; 401 without / with a wrong token, 200 with it', async () => {
    const pool = track(new Pool({ url: sqliteUrl('metrics') }))
    await pool.query('SELECT 1')
    const loader = metricsLoader(pool, { token: TOKEN })
    await expectUnauthorized(await loader(args(get('/metrics'))), { invalidToken: false })
    await expectUnauthorized(await loader(args(get('/metrics', bearer('wrong')))), { invalidToken: true })

    const response = await loader(args(get('/metrics', bearer(TOKEN))))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-store')
    const text = await response.text()
    const families = parsePrometheus(text)
    const names = families.map((f) => f.name)
    expect(names).toContain('db_pool_connections_created_total')
    const created = families.find((f) => f.name === 'db_pool_connections_created_total')
    expect(created.type).toBe('COUNTER')
    expect(created.metrics[0].labels).toEqual({ backend: 'sqlite' })
    expect(Number(created.metrics[0].value)).toBeGreaterThanOrEqual(1)
    // The same exposition the pool gives (modulo figures that moved since).
    expect(names).toEqual(parsePrometheus(pool.prometheus()).map((f) => f.name))
  })

  test('HEALTH_TOKEN protects it when no option is given', async () => {
    const pool = track(new Pool({ url: sqliteUrl('metrics-env') }))
    const loader = metricsLoader(pool)
    expect((await loader(args(get('/metrics')))).status).toBe(200)
    process.env.HEALTH_TOKEN = TOKEN
    await expectUnauthorized(await loader(args(get('/metrics'))), { invalidToken: false })
    expect((await loader(args(get('/metrics', bearer(TOKEN))))).status).toBe(200)
  })
})

describe('maintenanceAction', () => {
  test('GET, PUT, HEAD: 405 with Allow: POST (before any token check)', async () => {
    const pool = track(new Pool({ url: sqliteUrl('maint-405') }))
    const action = maintenanceAction(pool, { token: TOKEN })
    for (const method of ['GET', 'PUT', 'DELETE', 'HEAD']) {
      const response = await action(args(new Request('http://localhost/maintenance', { method })))
      expectJson(response, 405)
      expect(response.headers.get('allow')).toBe('POST')
    }
    const response = await action(args(get('/maintenance', bearer(TOKEN))))
    expect(response.status).toBe(405)
    expect((await response.json()).error).toBe('method not allowed')
  })

  test.each(backends().map((b) => [b.name, b]))(
    '%s: POST with the token deletes the expired sessions, reaps, reports { deleted, reaped, status }',
    async (name, backend) => {
      const pool = track(new Pool({ url: backend.url() }))
      const table = tableName('maint')
      await createSessionTable(pool, table)
      try {
        const past = new Date(Date.now() - 3_600_000)
        const future = new Date(Date.now() + 3_600_000)
        const insert = `INSERT INTO ${q(name, table)} (${q(name, 'id')}, ${q(name, 'shop')}, ${q(name, 'state')}, ${q(
          name,
          'expires',
        )}, ${q(name, 'accessToken')}) VALUES (?, ?, ?, ?, ?)`
        await pool.execute(insert, ['old1', 'a.myshopify.com', 's', past, 't'])
        await pool.execute(insert, ['old2', 'a.myshopify.com', 's', past, 't'])
        await pool.execute(insert, ['new', 'a.myshopify.com', 's', future, 't'])
        await pool.execute(insert, ['never', 'a.myshopify.com', 's', null, 't'])

        const action = maintenanceAction(pool, { token: TOKEN, table })
        await expectUnauthorized(await action(args(post('/maintenance'))), { invalidToken: false })
        await expectUnauthorized(await action(args(post('/maintenance', bearer('bad')))), { invalidToken: true })
        // Nothing was deleted by the refused calls.
        expect((await pool.queryOne(`SELECT count(*) AS n FROM ${q(name, table)}`)).n).toBe(4)

        const response = await action(args(post('/maintenance', bearer(TOKEN))))
        expectJson(response, 200)
        const body = await response.json()
        expect(body).toEqual({
          deleted: 2,
          reaped: expect.any(Number),
          status: {
            size: expect.any(Number),
            idle: expect.any(Number),
            inUse: 0,
            waiting: 0,
            maxConnections: pool.status().maxConnections,
            minConnections: 0,
            closed: false,
          },
        })
        expect(Number.isInteger(body.reaped) && body.reaped >= 0).toBe(true)
        const left = await pool.query(`SELECT ${q(name, 'id')} AS id FROM ${q(name, table)} ORDER BY ${q(name, 'id')}`)
        expect(left.map((r) => r.id)).toEqual(['never', 'new'])

        const again = await (await action(args(post('/maintenance', bearer(TOKEN))))).json()
        expect(again.deleted).toBe(0)
      } finally {
        await pool.execute(`DROP TABLE IF EXISTS ${q(name, table)}`)
      }
    },
  )

  test('reports what reapIdleConnections() closed; idle connections past idleTimeoutMs are gone after it', async () => {
    const pool = track(new Pool({ url: sqliteUrl('maint-reap'), maxConnections: 3, idleTimeoutMs: 100 }))
    await createSessionTable(pool, 'Session')
    // Three connections at once, then idle past the timeout.
    const slow = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT count(*) AS n FROM c'
    await Promise.all([pool.query(slow), pool.query(slow), pool.query(slow)])
    const reapedBefore = pool.metrics().connectionsReaped
    await new Promise((r) => setTimeout(r, 300))
    // A delegating pool records what the action got back from the real one.
    const seen = []
    const spy = {
      checkHealth: (o) => pool.checkHealth(o),
      cleanupExpiredSessions: (o) => pool.cleanupExpiredSessions(o),
      reapIdleConnections: () => {
        const n = pool.reapIdleConnections()
        seen.push(n)
        return n
      },
      status: () => pool.status(),
    }
    const body = await (await maintenanceAction(spy)(args(post('/maintenance')))).json()
    expect(seen).toHaveLength(1)
    expect(body.reaped).toBe(seen[0])
    // Upkeep may have closed some first; between the two, the idle ones are
    // gone: what is left is the one connection the cleanup itself just used.
    expect(pool.metrics().connectionsReaped - reapedBefore).toBeGreaterThanOrEqual(2)
    expect(body.status).toMatchObject({ size: 1, idle: 1, inUse: 0 })
  })

  test('default table is Session; a missing table is a 500 JSON error with its code', async () => {
    const pool = track(new Pool({ url: sqliteUrl('maint-missing') }))
    const action = maintenanceAction(pool)
    const response = await action(args(post('/maintenance')))
    expectJson(response, 500)
    const body = await response.json()
    expect(body.code).toBe('QUERY_FAILED')
    expect(body.error).toMatch(/Session/)

    await createSessionTable(pool, 'Session')
    await pool.execute('INSERT INTO "Session" (id, shop, state, expires, accessToken) VALUES (?, ?, ?, ?, ?)', [
      'x',
      's',
      's',
      new Date(Date.now() - 1000),
      't',
    ])
    const ok = await action(args(post('/maintenance')))
    expectJson(ok, 200)
    expect((await ok.json()).deleted).toBe(1)
  })

  test('closed pool: 503 with POOL_CLOSED', async () => {
    const pool = new Pool({ url: sqliteUrl('maint-closed') })
    await pool.close()
    const response = await maintenanceAction(pool)(args(post('/maintenance')))
    expectJson(response, 503)
    expect((await response.json()).code).toBe('POOL_CLOSED')
  })

  test('HEALTH_TOKEN protects it when no option is given', async () => {
    const pool = track(new Pool({ url: sqliteUrl('maint-env') }))
    await createSessionTable(pool, 'Session')
    process.env.HEALTH_TOKEN = TOKEN
    const action = maintenanceAction(pool)
    await expectUnauthorized(await action(args(post('/maintenance'))), { invalidToken: false })
    expectJson(await action(args(post('/maintenance', bearer(TOKEN)))), 200)
  })
})
