'use strict'
// The published package works on its own: `npm pack` the repository, install
// the tarball into an empty project (no Rust toolchain needed, the tarball
// carries the prebuilt addon), then load it through `require` and `import`.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const TIMEOUT = 120_000

/** The environment without npm's script variables, so the child npm acts on its own folder. */
function cleanEnv() {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k)) env[k] = v
  }
  return env
}

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

let work
let tarball
let packed
let consumer

beforeAll(() => {
  if (!fs.readdirSync(ROOT).some((f) => f.endsWith('.node'))) {
    throw new Error('no built addon (*.node) in the repository root: run `npm run build` first')
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sdp-pack-'))
  const out = run('npm', ['pack', '--json', '--pack-destination', work], ROOT)
  // Lifecycle scripts may print before the JSON; it is the last thing written.
  packed = JSON.parse(out.slice(out.indexOf('[')))[0]
  tarball = path.join(work, packed.filename)
  consumer = path.join(work, 'consumer')
  fs.mkdirSync(consumer)
  fs.writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2),
  )
  run('npm', ['install', tarball, '--no-audit', '--no-fund'], consumer)
}, TIMEOUT)

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

test('the tarball carries the addon, the loader, the types and lib/, and no sources', () => {
  const files = packed.files.map((f) => f.path)
  expect(files).toEqual(
    expect.arrayContaining([
      'package.json',
      'README.md',
      'index.js',
      'index.d.ts',
      'lib/index.js',
      'lib/index.mjs',
      'lib/transaction.js',
      'lib/errors.js',
      'lib/singleton.js',
      'lib/shutdown.js',
      'lib/remix.js',
      'lib/session-storage.js',
    ]),
  )
  expect(files.filter((f) => /^shopify-db-pool\..+\.node$/.test(f))).toHaveLength(1)
  expect(files.filter((f) => /^(src|target|node_modules|__test__|examples|\.ci)\//.test(f) || f.startsWith('Cargo'))).toEqual([])
})

test('require() in a fresh project opens a sqlite::memory: pool and queries it', () => {
  const script = `
    const { Pool, Transaction, resolveConfig, isDbError } = require('shopify-db-pool')
    ;(async () => {
      const db = new Pool({ url: 'sqlite::memory:' })
      const rows = await db.query('SELECT 1 AS x')
      await db.close()
      console.log(JSON.stringify({
        resolved: require.resolve('shopify-db-pool'),
        rows,
        backend: db.backend,
        closed: db.closed,
        types: [typeof Transaction, typeof resolveConfig, typeof isDbError, typeof db.transaction],
      }))
    })().catch((e) => { console.error(e); process.exit(1) })
  `
  const out = JSON.parse(run(process.execPath, ['-e', script], consumer))
  expect(out.resolved).toBe(path.join(consumer, 'node_modules', 'shopify-db-pool', 'lib', 'index.js'))
  expect(out.rows).toEqual([{ x: 1 }])
  expect(out.backend).toBe('sqlite')
  expect(out.closed).toBe(true)
  expect(out.types).toEqual(['function', 'function', 'function', 'function'])
}, TIMEOUT)

test('import in a fresh project (ESM) opens a sqlite::memory: pool and queries it', () => {
  const file = path.join(consumer, 'check.mjs')
  fs.writeFileSync(
    file,
    `
    import { Pool, Transaction, resolveConfig, isDbError } from 'shopify-db-pool'
    import pkg from 'shopify-db-pool'

    const db = new Pool({ url: 'sqlite::memory:' })
    const row = await db.queryOne('SELECT 1 AS x')
    const rows = await db.transaction(async (tx) => tx.query('SELECT 1 AS x'))
    await db.close()
    console.log(JSON.stringify({
      resolved: import.meta.resolve('shopify-db-pool'),
      row,
      rows,
      sameAsCjs: pkg.Pool === Pool,
      types: [typeof Transaction, typeof resolveConfig, typeof isDbError],
    }))
    `,
  )
  const out = JSON.parse(run(process.execPath, [file], consumer))
  expect(out.resolved).toMatch(/\/node_modules\/shopify-db-pool\/lib\/index\.mjs$/)
  expect(out.row).toEqual({ x: 1 })
  expect(out.rows).toEqual([{ x: 1 }])
  expect(out.sameAsCjs).toBe(true)
  expect(out.types).toEqual(['function', 'function', 'function'])
}, TIMEOUT)

test('the JavaScript layer loads without the optional Shopify peers; PoolSessionStorage says what is missing', () => {
  const script = `
    const m = require('shopify-db-pool')
    ;(async () => {
      const db = m.getPool({ url: 'sqlite::memory:' })
      const response = await m.databaseHealthLoader(db)({ request: new Request('http://localhost/health/database') })
      const body = await response.json()
      let storageError = null
      try { new m.PoolSessionStorage(db) } catch (e) { storageError = { code: e.code, message: e.message } }
      const peer = (() => { try { require.resolve('@shopify/shopify-api'); return true } catch { return false } })()
      await db.close()
      console.log(JSON.stringify({
        exports: ['getPool', 'installShutdownHooks', 'databaseHealthLoader', 'detailedHealthLoader', 'metricsLoader',
          'maintenanceAction', 'PoolSessionStorage', 'MissingSessionTableError'].map((k) => typeof m[k]),
        status: response.status, health: body.status, storageError, peer,
      }))
    })().catch((e) => { console.error(e); process.exit(1) })
  `
  const out = JSON.parse(run(process.execPath, ['-e', script], consumer))
  expect(out.exports).toEqual(Array(8).fill('function'))
  expect(out.status).toBe(200)
  expect(out.health).toBe('healthy')
  expect(out.peer).toBe(false)
  expect(out.storageError.code).toBe('INVALID_ARGUMENT')
  expect(out.storageError.message).toMatch(/needs @shopify\/shopify-api/)
}, TIMEOUT)
