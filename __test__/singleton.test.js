'use strict'
// getPool(): one pool per process, kept on globalThis, so that reloaded
// modules (jest.resetModules(), a cleared require.cache, ESM and CJS entries
// side by side) get the same pool; a closed one is replaced.
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { sqliteUrl } = require('./helpers.js')

const ROOT = path.resolve(__dirname, '..')
const KEY = Symbol.for('shopify-db-pool.pool')

/** Runs a Node script in a fresh process (real require.cache) and parses its JSON output. */
function runNode(args, env = {}) {
  const out = execFileSync(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return JSON.parse(out.trim().split('\n').pop())
}

afterEach(async () => {
  const pool = globalThis[KEY]
  if (pool && !pool.closed) await pool.close()
  delete globalThis[KEY]
})

test('the same pool on every call, kept on globalThis under Symbol.for(shopify-db-pool.pool)', async () => {
  const { getPool } = require('../lib/index.js')
  const url = sqliteUrl('singleton')
  const a = getPool({ url })
  const b = getPool()
  const c = getPool({ url: sqliteUrl('ignored') })
  expect(b).toBe(a)
  expect(c).toBe(a)
  expect(globalThis[KEY]).toBe(a)
  expect(a.options.url).toBe(url)
  await expect(a.query('SELECT 1 AS x')).resolves.toEqual([{ x: 1 }])
})

test('jest.resetModules(): a freshly loaded module returns the pool already open', async () => {
  const first = require('../lib/index.js')
  const pool = first.getPool({ url: sqliteUrl('reset') })
  await pool.execute('CREATE TABLE t (x INTEGER)')
  await pool.execute('INSERT INTO t (x) VALUES (?)', [1])

  jest.resetModules()
  const second = require('../lib/index.js')
  expect(second).not.toBe(first)
  expect(second.getPool).not.toBe(first.getPool)
  const again = second.getPool()
  expect(again).toBe(pool)
  // It is the same open pool: same connections, same database.
  await expect(again.query('SELECT x FROM t')).resolves.toEqual([{ x: 1 }])
  expect(again.metrics().connectionsCreated).toBe(1)

  jest.isolateModules(() => {
    expect(require('../lib/index.js').getPool()).toBe(pool)
  })
})

test('a closed pool is replaced by a new one, which is then the one kept', async () => {
  const { getPool } = require('../lib/index.js')
  const url = sqliteUrl('replace')
  const first = getPool({ url })
  await first.close()
  expect(first.closed).toBe(true)
  const second = getPool({ url })
  expect(second).not.toBe(first)
  expect(second.closed).toBe(false)
  expect(getPool()).toBe(second)
  expect(globalThis[KEY]).toBe(second)
  await expect(second.query('SELECT 2 AS y')).resolves.toEqual([{ y: 2 }])
})

test('defaults come from resolveConfig(): DATABASE_URL, DB_POOL_MAX, DB_POOL_TIMEOUT_MS', () => {
  const url = sqliteUrl('env')
  const out = runNode(
    [
      '-e',
      `
      const { getPool, resolveConfig } = require('./lib/index.js')
      const pool = getPool()
      const o = pool.options
      pool.close().then(() => console.log(JSON.stringify({
        url: o.url, max: o.maxConnections, timeout: o.acquireTimeoutMs, expected: resolveConfig(),
      })))
      `,
    ],
    { DATABASE_URL: url, DB_POOL_MAX: '3', DB_POOL_TIMEOUT_MS: '1234', NODE_ENV: 'production' },
  )
  expect(out.url).toBe(url)
  expect(out.max).toBe(3)
  expect(out.timeout).toBe(1234)
  expect(out.expected).toMatchObject({ url, maxConnections: 3, acquireTimeoutMs: 1234 })
})

test('a cleared require.cache (real Node, fresh process): same pool, one connection', () => {
  const url = sqliteUrl('require-cache')
  const out = runNode([
    '-e',
    `
    const first = require('./lib/index.js')
    const pool = first.getPool({ url: ${JSON.stringify(url)} })
    ;(async () => {
      await pool.query('SELECT 1')
      for (const key of Object.keys(require.cache)) delete require.cache[key]
      const second = require('./lib/index.js')
      const again = second.getPool({ url: 'file:/nonexistent/other.sqlite' })
      const rows = await again.query('SELECT 2 AS y')
      const result = {
        reloaded: second !== first && second.Pool !== first.Pool,
        same: again === pool,
        rows,
        created: again.metrics().connectionsCreated,
      }
      await again.close()
      // Closed: the reloaded module now opens a new pool.
      const fresh = second.getPool({ url: ${JSON.stringify(url)} })
      result.freshIsNew = fresh !== pool && !fresh.closed
      await fresh.close()
      console.log(JSON.stringify(result))
    })().catch((e) => { console.error(e); process.exit(1) })
    `,
  ])
  expect(out).toEqual({ reloaded: true, same: true, rows: [{ y: 2 }], created: 1, freshIsNew: true })
})

test('the ESM and CommonJS entries share the pool', () => {
  const url = sqliteUrl('esm')
  const out = runNode([
    '--input-type=module',
    '-e',
    `
    import { createRequire } from 'node:module'
    import { getPool } from ${JSON.stringify(path.join(ROOT, 'lib', 'index.mjs'))}
    const require = createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))})
    const cjs = require('./lib/index.js')
    const a = getPool({ url: ${JSON.stringify(url)} })
    const b = cjs.getPool()
    const same = a === b && globalThis[Symbol.for('shopify-db-pool.pool')] === a
    await a.close()
    console.log(JSON.stringify({ same }))
    `,
  ])
  expect(out).toEqual({ same: true })
})
