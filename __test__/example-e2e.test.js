'use strict'
// End-to-end: the Remix example app (examples/shopify-remix) built and served
// by remix-serve in a child process, every route requested over HTTP, then the
// dashboard opened in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) to check that the live pool figures render and update.
//
// The example is installed (npm ci) and built (remix vite:build) here when it
// is missing or older than its sources, which can take a minute or two.
// Outside CI the browser test is skipped when /usr/bin/chromium is missing
// (apt-get install chromium); with CI set it always runs.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const net = require('node:net')
const { spawn, spawnSync } = require('node:child_process')
const { Pool } = require('../lib/index.js')

const ROOT = path.join(__dirname, '..')
const EXAMPLE = path.join(ROOT, 'examples', 'shopify-remix')
const SERVER_BUILD = path.join(EXAMPLE, 'build', 'server', 'index.js')
const SERVE_CLI = path.join(EXAMPLE, 'node_modules', '@remix-run', 'serve', 'dist', 'cli.js')
const CHROMIUM = '/usr/bin/chromium'
const TOKEN = 'e2e-health-token-5f1c'

const haveChromium = fs.existsSync(CHROMIUM)
const browserTest = haveChromium || process.env.CI ? test : test.skip
if (!haveChromium && !process.env.CI) {
  console.warn(
    `example-e2e: skipping the browser test: ${CHROMIUM} is missing ` +
      '(apt-get install -y --no-install-recommends chromium; it always runs when CI is set)',
  )
}

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sdp-example-e2e-'))
const DB_FILE = path.join(TMP, 'example.sqlite')

let server // { child, port, output(), exited }
let base

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

function run(cmd, args, what) {
  const started = Date.now()
  const res = spawnSync(cmd, args, {
    cwd: EXAMPLE,
    encoding: 'utf8',
    timeout: 480000,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  })
  if (res.status !== 0) {
    throw new Error(
      `${what} failed (${res.error ? res.error.message : `exit ${res.status}, signal ${res.signal}`}):\n` +
        `${(res.stdout || '').slice(-4000)}\n${(res.stderr || '').slice(-4000)}`,
    )
  }
  console.log(`example-e2e: ${what} took ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

/** Newest mtime (ms) of the files that make up the example's build. */
function newestSource() {
  let newest = 0
  const visit = (p) => {
    const st = fs.statSync(p)
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name))
    else newest = Math.max(newest, st.mtimeMs)
  }
  for (const p of ['app', 'vite.config.js', 'package.json', 'package-lock.json']) visit(path.join(EXAMPLE, p))
  return newest
}

function installed() {
  const link = path.join(EXAMPLE, 'node_modules', 'shopify-db-pool')
  return (
    fs.existsSync(SERVE_CLI) &&
    fs.existsSync(path.join(EXAMPLE, 'node_modules', '.bin', 'remix')) &&
    fs.existsSync(link) &&
    fs.realpathSync(link) === fs.realpathSync(ROOT)
  )
}

function ensureBuilt() {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  if (!installed()) run(npm, ['ci', '--no-audit', '--no-fund'], 'npm ci in examples/shopify-remix')
  if (!fs.existsSync(SERVER_BUILD) || fs.statSync(SERVER_BUILD).mtimeMs < newestSource()) {
    run(npm, ['run', 'build'], 'npm run build in examples/shopify-remix')
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function startServer() {
  const port = await freePort()
  const env = { ...process.env }
  for (const k of ['SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'POOL_DEMO_BURST', 'DB_POOL_MAX']) delete env[k]
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
    DATABASE_URL: `file:${DB_FILE}`,
    HEALTH_TOKEN: TOKEN,
  })
  const child = spawn(process.execPath, [SERVE_CLI, './build/server/index.js'], {
    cwd: EXAMPLE,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  const srv = { child, port, exited, output: () => output, exitStatus: null }
  exited.then((s) => (srv.exitStatus = s))

  const deadline = Date.now() + 60000
  for (;;) {
    if (srv.exitStatus) {
      throw new Error(`the example server exited early (${JSON.stringify(srv.exitStatus)}):\n${output}`)
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/database`)
      await res.arrayBuffer()
      if (res.status === 200) return srv
    } catch (_) {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`the example server did not answer within 60 s:\n${output}`)
    await sleep(250)
  }
}

async function get(pathname, init) {
  const res = await fetch(`${base}${pathname}`, init)
  const text = await res.text()
  return { res, text, json: () => JSON.parse(text) }
}

const auth = (token = TOKEN) => ({ headers: { Authorization: `Bearer ${token}` } })

beforeAll(async () => {
  ensureBuilt()
  server = await startServer()
  base = `http://127.0.0.1:${server.port}`
}, 600000)

afterAll(async () => {
  if (server && !server.exitStatus) {
    server.child.kill('SIGKILL')
    await server.exited
  }
  fs.rmSync(TMP, { recursive: true, force: true })
})

describe('example app: routes over HTTP', () => {
  test('GET / renders the dashboard on the server', async () => {
    const { res, text } = await get('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    for (const id of ['pool-size', 'pool-idle', 'pool-in-use', 'pool-waiting', 'pool-max', 'queries-total', 'chart-acquire', 'chart-query']) {
      expect(text).toContain(`data-testid="${id}"`)
    }
    expect(text).toContain('PoolSessionStorage')
  })

  test('GET /health/database: 200 JSON with the contract keys', async () => {
    const { res, json } = await get('/health/database')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('cache-control')).toMatch(/no-store/)
    const body = json()
    expect(['healthy', 'degraded']).toContain(body.status)
    expect(typeof body.connection_time_ms).toBe('number')
    expect(body.database_type).toBe('sqlite')
    expect(body.pool_info).toEqual({
      max_connections: expect.any(Number),
      size: expect.any(Number),
      idle: expect.any(Number),
      in_use: expect.any(Number),
      waiting: expect.any(Number),
    })
    expect(body.error).toBeNull()
    expect(Number.isNaN(Date.parse(body.checked_at))).toBe(false)
  })

  test('GET /health/detailed: 401 without or with a wrong token, 200 with it', async () => {
    for (const init of [undefined, auth('wrong-token'), { headers: { Authorization: TOKEN } }]) {
      const { res } = await get('/health/detailed', init)
      expect(res.status).toBe(401)
    }
    const { res, json } = await get('/health/detailed', auth())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('cache-control')).toMatch(/no-store/)
    const body = json()
    expect(['healthy', 'degraded']).toContain(body.status)
    expect(body.database.database_type).toBe('sqlite')
    expect(body.connection_pool).toEqual(
      expect.objectContaining({ concurrent_queries: expect.any(Number), all_queries_successful: true }),
    )
    expect(typeof body.metrics.queriesTotal).toBe('number')
    expect(body.process).toEqual(
      expect.objectContaining({ rss_bytes: expect.any(Number), heap_used_bytes: expect.any(Number) }),
    )
    expect(typeof body.checked_at).toBe('string')
  })

  test('GET /metrics: 401 without the token, Prometheus text with it', async () => {
    expect((await get('/metrics')).res.status).toBe(401)
    expect((await get('/metrics', auth('nope'))).res.status).toBe(401)
    const { res, text } = await get('/metrics', auth())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(text).toMatch(/^db_pool_queries_total\{[^}]*backend="sqlite"[^}]*\} \d+$/m)
    expect(text).toContain('# TYPE db_pool_query_duration_seconds histogram')
  })

  test('POST /maintenance: 401 without the token, 200 with it, 405 for GET', async () => {
    expect((await get('/maintenance', { method: 'POST' })).res.status).toBe(401)
    const { res, json } = await get('/maintenance', { method: 'POST', ...auth() })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(json()).toEqual(expect.any(Object))
    expect((await get('/maintenance', auth())).res.status).toBe(405)
  })

  test('GET /api/pool: status, metrics and history as JSON', async () => {
    const { res, json } = await get('/api/pool')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('cache-control')).toMatch(/no-store/)
    const body = json()
    expect(body.backend).toBe('sqlite')
    expect(body.status).toEqual(
      expect.objectContaining({
        size: expect.any(Number),
        idle: expect.any(Number),
        inUse: expect.any(Number),
        waiting: expect.any(Number),
        maxConnections: 10, // NODE_ENV=production
        closed: false,
      }),
    )
    expect(body.metrics.queriesTotal).toBeGreaterThan(0)
    for (const key of ['acquireWaitMs', 'queryTimeMs']) {
      expect(body.metrics[key]).toEqual(expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number) }))
    }
    expect(Array.isArray(body.history)).toBe(true)
  })

  test('POST /api/pool: starts one bounded burst of queries at a time', async () => {
    const before = (await get('/api/pool')).json().metrics.queriesTotal
    const first = await get('/api/pool', { method: 'POST' })
    expect(first.res.status).toBe(202)
    expect(first.json().burst).toEqual(expect.objectContaining({ started: true, running: true }))
    const second = await get('/api/pool', { method: 'POST' })
    expect(second.res.status).toBe(409)
    // Wait for it to end (it runs ~6 s), so the browser test starts its own.
    let body
    for (let i = 0; i < 60; i++) {
      await sleep(500)
      body = (await get('/api/pool')).json()
      if (!body.burst.running) break
    }
    expect(body.burst.running).toBe(false)
    expect(body.burst.errors).toBe(0)
    expect(body.metrics.queriesTotal).toBeGreaterThan(before + 100)
    expect(body.metrics.errorsTotal).toBe(0)
  }, 60000)

  test('the Session table was created in the SQLite file, as Prisma would', async () => {
    const pool = new Pool({ url: `file:${DB_FILE}`, maxConnections: 1 })
    try {
      const cols = await pool.query(`SELECT name FROM pragma_table_info('Session') ORDER BY cid`)
      expect(cols.map((c) => c.name)).toEqual([
        'id', 'shop', 'state', 'isOnline', 'scope', 'expires', 'accessToken', 'userId', 'firstName',
        'lastName', 'email', 'accountOwner', 'locale', 'collaborator', 'emailVerified', 'refreshToken',
        'refreshTokenExpires',
      ])
    } finally {
      await pool.close()
    }
  })
})

describe('example app: the dashboard in headless Chromium', () => {
  browserTest(
    'live pool figures render and update without a reload',
    async () => {
      const { chromium } = require('playwright-core')
      const userDataDir = fs.mkdtempSync(path.join(TMP, 'chromium-'))
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        timeout: 60000,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      })
      const problems = []
      try {
        const page = context.pages()[0] || (await context.newPage())
        page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
        page.on('console', (msg) => {
          if (msg.type() === 'error' && !/favicon/.test(msg.location().url || '') && !/favicon/.test(msg.text())) {
            problems.push(`console.error: ${msg.text()}`)
          }
        })
        await page.goto(`${base}/`, { waitUntil: 'load', timeout: 60000 })
        // A marker that a reload would wipe.
        await page.evaluate(() => {
          window.__e2eMarker = 'still-here'
        })
        const text = async (id) => (await page.getByTestId(id).textContent()).trim()
        const num = async (id) => Number(await text(id))
        const points = async (id) => Number(await page.getByTestId(id).getAttribute('data-points'))

        // The figures are there and plausible.
        expect(await text('pool-backend')).toBe('sqlite')
        expect(await num('pool-max')).toBe(10)
        for (const id of ['pool-size', 'pool-idle', 'pool-in-use', 'pool-waiting', 'queries-total']) {
          expect(Number.isInteger(await num(id))).toBe(true)
        }
        expect(await text('pool-state')).toBe('open')
        expect(await text('session-storage')).toMatch(/Session table: ready, \d+ session/)

        // The client polls /api/pool: the refresh counter and the timestamp move.
        const firstUpdate = await page.getByTestId('updated-at').getAttribute('datetime')
        await page.waitForFunction(
          () => Number(document.querySelector('[data-testid="refresh-count"]').textContent) >= 2,
          null,
          { timeout: 20000 },
        )
        expect(await page.getByTestId('updated-at').getAttribute('datetime')).not.toBe(firstUpdate)

        // A burst of queries: the query counter climbs, the charts gain points and lines.
        const queriesBefore = await num('queries-total')
        const acquirePointsBefore = await points('chart-acquire')
        const queryPointsBefore = await points('chart-query')
        await page.getByTestId('burst-button').click()
        await page.waitForFunction(
          (before) => Number(document.querySelector('[data-testid="queries-total"]').textContent) > before + 50,
          queriesBefore,
          { timeout: 30000 },
        )
        await page.waitForFunction(
          ({ a, q }) => {
            const pts = (id) => Number(document.querySelector(`[data-testid="${id}"]`).getAttribute('data-points'))
            return pts('chart-acquire') >= a + 2 && pts('chart-query') >= q + 2
          },
          { a: acquirePointsBefore, q: queryPointsBefore },
          { timeout: 30000 },
        )
        // The query-time chart draws its p50 and p99 lines from the burst's intervals.
        await page.waitForFunction(
          () =>
            document.querySelectorAll('[data-testid="chart-query"] [data-series="p50"]').length > 0 &&
            document.querySelectorAll('[data-testid="chart-query"] [data-series="p99"]').length > 0,
          null,
          { timeout: 30000 },
        )
        const latestP50 = await text('chart-query-latest-p50')
        expect(latestP50).toMatch(/^p50 /)
        expect(await page.getByTestId('connections-created').textContent()).toMatch(/^\d+$/)

        // It all happened in the same page: no reload.
        expect(await page.evaluate(() => window.__e2eMarker)).toBe('still-here')
        await page.screenshot({ path: path.join(TMP, 'dashboard.png'), fullPage: true })
        expect(problems).toEqual([])
      } finally {
        await context.close()
      }
    },
    180000,
  )
})

describe('example app: shutdown', () => {
  test('SIGTERM: the server drains the pool and exits 0', async () => {
    server.child.kill('SIGTERM')
    let timer
    const status = await Promise.race([
      server.exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), 20000)
      }),
    ])
    clearTimeout(timer)
    if (status === 'timeout' || status.code !== 0) {
      throw new Error(`exit after SIGTERM: ${JSON.stringify(status)}\n${server.output()}`)
    }
    expect(status).toEqual({ code: 0, signal: null })
  }, 30000)
})
