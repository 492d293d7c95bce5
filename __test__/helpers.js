'use strict'
// Shared test setup: which backends to run against, fresh databases for
// each test file, and small utilities. PostgreSQL/MySQL tests run when
// TEST_POSTGRES_URL / TEST_MYSQL_URL are set (.ci/run sets both).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Pool } = require('../lib/index.js')

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sdp-test-'))
let counter = 0

function sqliteUrl(name = 'db') {
  counter += 1
  return `file:${path.join(TMP, `${name}-${process.pid}-${counter}.sqlite`)}`
}

/** Backends to test: always SQLite, plus servers whose URL is set. */
function backends() {
  const list = [{ name: 'sqlite', url: () => sqliteUrl() }]
  if (process.env.TEST_POSTGRES_URL) list.push({ name: 'postgres', url: () => process.env.TEST_POSTGRES_URL })
  if (process.env.TEST_MYSQL_URL) list.push({ name: 'mysql', url: () => process.env.TEST_MYSQL_URL })
  return list
}

/** A table name unique to this process and call, so parallel runs never collide. */
function tableName(prefix = 't') {
  counter += 1
  return `${prefix}_${process.pid}_${counter}_${Math.floor(Math.random() * 1e6)}`
}

/** Column types per backend, for tests that create tables. */
const TYPES = {
  sqlite: { id: 'INTEGER PRIMARY KEY AUTOINCREMENT', text: 'TEXT', int: 'INTEGER', bigint: 'BIGINT', float: 'REAL', bool: 'BOOLEAN', ts: 'DATETIME', blob: 'BLOB', json: 'TEXT', decimal: 'NUMERIC' },
  postgres: { id: 'BIGSERIAL PRIMARY KEY', text: 'TEXT', int: 'INTEGER', bigint: 'BIGINT', float: 'DOUBLE PRECISION', bool: 'BOOLEAN', ts: 'TIMESTAMP(3)', blob: 'BYTEA', json: 'JSONB', decimal: 'NUMERIC(30,10)' },
  mysql: { id: 'BIGINT AUTO_INCREMENT PRIMARY KEY', text: 'TEXT', int: 'INT', bigint: 'BIGINT', float: 'DOUBLE', bool: 'TINYINT(1)', ts: 'DATETIME(3)', blob: 'LONGBLOB', json: 'JSON', decimal: 'DECIMAL(30,10)' },
}

/** Quotes an identifier the way each backend expects. */
function q(backend, name) {
  return backend === 'mysql' ? `\`${name}\`` : `"${name}"`
}

async function expectCode(promise, code) {
  let error
  try {
    await promise
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(Error)
  expect(error.code).toBe(code)
  return error
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

module.exports = { Pool, TMP, sqliteUrl, backends, tableName, TYPES, q, expectCode, sleep }

// ---- added helpers (core suite) ----

/** A new pool on a backends() entry (SQLite: a fresh file each call). */
function openPool(backend, options = {}) {
  return new Pool({ url: backend.url(), ...options })
}

/** Table options: MySQL tables are InnoDB (transactions) and utf8mb4 (emoji). */
function tableOptions(backendName) {
  return backendName === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : ''
}

/** Drops a table if it exists; never throws (cleanup must not mask a failure). */
async function dropTable(pool, name) {
  try {
    if (!pool.closed) await pool.execute(`DROP TABLE IF EXISTS ${q(pool.backend, name)}`)
  } catch (_) {
    /* cleanup only */
  }
}

/**
 * A statement that takes roughly `seconds` on the database and returns one
 * row `{ s: 1 }` (SQLite has no sleep: a recursive CTE does the work).
 */
function slowSql(backendName, seconds) {
  if (backendName === 'postgres') return `SELECT 1 AS s FROM pg_sleep(${seconds})`
  if (backendName === 'mysql') return `SELECT SLEEP(${seconds}) + 1 AS s`
  const n = Math.max(1, Math.round(seconds * 1e7))
  return `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${n}) SELECT CASE WHEN count(*) > 0 THEN 1 ELSE 0 END AS s FROM c`
}

/** Waits until `predicate()` is true (polling), or fails after `timeoutMs`. */
async function waitFor(predicate, timeoutMs = 5000, what = 'condition') {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

module.exports.openPool = openPool
module.exports.tableOptions = tableOptions
module.exports.dropTable = dropTable
module.exports.slowSql = slowSql
module.exports.waitFor = waitFor

/**
 * True for a Date from any realm. Jest runs each test file in its own vm
 * context, while the addon builds Dates in Node's main context, so
 * `instanceof Date` is false there even for a real Date.
 */
function isDate(value) {
  return require('node:util').types.isDate(value)
}

/**
 * The same JSON-able value built in Node's main realm (where the addon
 * lives) instead of this test file's vm context.
 */
function mainRealm(value) {
  return require('node:vm').runInThisContext(`(${JSON.stringify(value)})`)
}

module.exports.isDate = isDate
module.exports.mainRealm = mainRealm

/**
 * Like expectCode, but realm-safe: the addon builds its Errors in Node's
 * main context, so under Jest `toBeInstanceOf(Error)` fails even for a real
 * Error. Checks: a native Error (any realm), a string `code` equal to `code`.
 */
async function expectDbError(promise, code) {
  let error
  let settled = false
  try {
    await promise
    settled = true
  } catch (e) {
    error = e
  }
  expect(settled ? 'resolved' : 'rejected').toBe('rejected')
  expect(require('node:util').types.isNativeError(error)).toBe(true)
  expect(typeof error.code).toBe('string')
  expect(error.code).toBe(code)
  expect(typeof error.message).toBe('string')
  return error
}

/** Same checks for a synchronous call that must throw. */
function expectThrowsDbError(fn, code) {
  let error
  let threw = false
  try {
    fn()
  } catch (e) {
    threw = true
    error = e
  }
  expect(threw).toBe(true)
  expect(require('node:util').types.isNativeError(error)).toBe(true)
  expect(typeof error.code).toBe('string')
  expect(error.code).toBe(code)
  return error
}

module.exports.expectDbError = expectDbError
module.exports.expectThrowsDbError = expectThrowsDbError

/**
 * Resolves with the promise's value, or with the string 'hung' if it has
 * not settled within `ms` (a hang guard, not a speed check). The timer is
 * cleared either way, so Jest can exit.
 */
async function settleWithin(promise, ms) {
  let timer
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms)
  })
  try {
    return await Promise.race([promise, guard])
  } finally {
    clearTimeout(timer)
  }
}

module.exports.settleWithin = settleWithin

// ---- added helpers (health / metrics / maintenance suite) ----

/**
 * Runs `node [nodeArgs] -e script` in a child process and resolves with
 * { code, signal, stdout, stderr, elapsedMs, killed }. The child is killed
 * (SIGKILL) after `timeoutMs`, so a child that never exits fails the test
 * instead of hanging it.
 */
function runNode(script, { nodeArgs = [], env = {}, timeoutMs = 15000, args = [] } = {}) {
  const { spawn } = require('node:child_process')
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [...nodeArgs, '-e', script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, killed, elapsedMs: Date.now() - started })
    })
  })
}

/** The last line of `text` that parses as JSON (a child's report). */
function lastJson(text) {
  const lines = String(text).trim().split('\n').reverse()
  for (const line of lines) {
    try {
      return JSON.parse(line)
    } catch (_) {
      /* not JSON */
    }
  }
  throw new Error(`no JSON line in output:\n${text}`)
}

/**
 * A TCP server that accepts connections and never answers: a database that
 * hangs. Resolves with { port, close() }.
 */
function silentServer() {
  const net = require('node:net')
  return new Promise((resolve) => {
    const sockets = new Set()
    const server = net.createServer((s) => {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    })
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy()
            server.close(() => r())
          }),
      })
    })
  })
}

/** The same server URL with another user and/or password (URL-encoded). */
function withCredentials(url, { user, password }) {
  const u = new URL(url)
  if (user !== undefined) u.username = encodeURIComponent(user)
  if (password !== undefined) u.password = encodeURIComponent(password)
  return u.toString()
}

module.exports.runNode = runNode
module.exports.lastJson = lastJson
module.exports.silentServer = silentServer
module.exports.withCredentials = withCredentials
