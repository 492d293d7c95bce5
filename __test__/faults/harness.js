'use strict'
// Shared plumbing of the fault suite (__test__/faults):
//
// - server URLs carrying distinctive passwords (PostgreSQL: the test server
//   trusts 127.0.0.1, so any password is accepted; MariaDB: a throw-away
//   user `sdp_f_<pid>` with a password, created and dropped by each file),
//   so that every fault below runs with a secret that must never show up;
// - a capture of everything a file's pools produce (errors with stacks and
//   causes, process warnings, console output, raw stdout/stderr writes,
//   health, metrics and Prometheus reports) that is scanned for those
//   secrets after the file's tests, and written where secrets-scan.test.js
//   finds it;
// - PostgreSQL server control (pg_ctlcluster, pg_isready) with a restore
//   step that waits until the server answers again.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const vm = require('node:vm')
const { spawn } = require('node:child_process')
const helpers = require('../helpers')

const { Pool, sleep } = helpers

const PG_BASE = process.env.TEST_POSTGRES_URL || null
const MY_BASE = process.env.TEST_MYSQL_URL || null

/** Passwords no real output could contain by chance. */
const SECRETS = {
  // Characters that must be percent-encoded in a URL: every form is scanned.
  postgres: 'pg:F4ult@S3cret/Zq81#',
  mysql: 'myF4ultS3cretKx27',
}

/** Every contract code (index.d.ts ErrorCode). */
const CODES = [
  'POOL_TIMEOUT',
  'POOL_CLOSED',
  'CONNECTION_FAILED',
  'QUERY_FAILED',
  'TIMEOUT',
  'TRANSACTION_CLOSED',
  'INVALID_ARGUMENT',
  'INVALID_URL',
  'INTERNAL',
]

// Jest gives each test file its own `process`; warnings and raw writes
// happen on Node's real one.
const realProcess = vm.runInThisContext('process')

/** Where each file leaves what it captured, for secrets-scan.test.js. */
const SCAN_DIR = path.join(os.tmpdir(), `sdp-faults-scan-${realProcess.pid}`)

function isError(e) {
  return util.types.isNativeError(e) || Object.prototype.toString.call(e) === '[object Error]'
}

/** Everything an Error exposes: message, stack, own properties, causes. */
function describeError(e, depth = 0) {
  if (e === null || e === undefined || depth > 5) return String(e)
  if (typeof e !== 'object') return String(e)
  const parts = [String(e), e.message, e.stack, util.inspect(e, { depth: 6, showHidden: true })]
  for (const key of Object.getOwnPropertyNames(e)) {
    if (key === 'cause') continue
    try {
      parts.push(`${key}=${typeof e[key] === 'object' ? JSON.stringify(e[key]) : String(e[key])}`)
    } catch (_) {
      parts.push(`${key}=<unserialisable>`)
    }
  }
  if ('cause' in e) parts.push(describeError(e.cause, depth + 1))
  return parts.join('\n')
}

/** The forms in which a password could show up. */
function forms(secret) {
  return [...new Set([secret, encodeURIComponent(secret), encodeURI(secret)])].filter((s) => s.length >= 6)
}

function passwordOf(url) {
  try {
    const p = new URL(url).password
    return p ? decodeURIComponent(p) : null
  } catch (_) {
    return null
  }
}

/** Every secret this suite's URLs may carry. */
function allSecrets() {
  const list = [SECRETS.postgres, SECRETS.mysql]
  for (const base of [PG_BASE, MY_BASE]) {
    const pw = base && passwordOf(base)
    if (pw && pw.length >= 4) list.push(pw)
  }
  return [...new Set(list)]
}

/** Where in `text` a secret appears (with context), or null. */
function findSecret(text, secrets = allSecrets()) {
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      const at = text.indexOf(form)
      if (at !== -1) return `…${text.slice(Math.max(0, at - 300), at + 300)}…`
    }
  }
  return null
}

// ---------------------------------------------------------------------------
// capture and scan

/**
 * Call at the top of a test file. Captures console output, raw stdout and
 * stderr writes and process warnings for the whole file, plus whatever the
 * tests record; after the file it asserts that no secret appears, and
 * leaves the text in SCAN_DIR. Returns the recorder.
 */
function installSecretScan(label) {
  const seen = []
  const counts = { errors: 0, reports: 0, warnings: 0, output: 0 }
  let restore = () => {}

  beforeAll(() => {
    const spies = ['log', 'info', 'warn', 'error', 'debug', 'trace'].map((m) =>
      jest.spyOn(console, m).mockImplementation((...args) => {
        counts.output += 1
        seen.push(`console.${m}: ${util.format(...args)}`)
      }),
    )
    const outWrite = realProcess.stdout.write
    const errWrite = realProcess.stderr.write
    realProcess.stdout.write = function (chunk, ...rest) {
      seen.push(`stdout: ${String(chunk)}`)
      return outWrite.call(this, chunk, ...rest)
    }
    realProcess.stderr.write = function (chunk, ...rest) {
      seen.push(`stderr: ${String(chunk)}`)
      return errWrite.call(this, chunk, ...rest)
    }
    const onWarning = (w) => {
      counts.warnings += 1
      seen.push(`warning: ${describeError(w)}`)
    }
    realProcess.on('warning', onWarning)
    if (process !== realProcess) process.on('warning', onWarning)
    restore = () => {
      for (const s of spies) s.mockRestore()
      realProcess.stdout.write = outWrite
      realProcess.stderr.write = errWrite
      realProcess.off('warning', onWarning)
      if (process !== realProcess) process.off('warning', onWarning)
    }
  })

  afterAll(() => {
    restore()
    const text = seen.join('\n')
    try {
      fs.mkdirSync(SCAN_DIR, { recursive: true })
      fs.writeFileSync(
        path.join(SCAN_DIR, `${label}.json`),
        JSON.stringify({ label, counts, secrets: allSecrets().length, text }),
      )
    } catch (_) {
      /* the in-file assertion below still runs */
    }
    expect(findSecret(text)).toBeNull()
  })

  const recorder = {
    counts,
    record(what, value) {
      seen.push(`${what}: ${typeof value === 'string' ? value : util.inspect(value, { depth: 8 })}`)
    },
    recordError(what, e) {
      counts.errors += 1
      seen.push(`${what} error: ${describeError(e)}`)
    },
    /** Health, detailed health, metrics, Prometheus, status and options of a pool. */
    async recordReports(what, pool, { detailed = false, timeoutMs = 3000 } = {}) {
      counts.reports += 1
      const parts = []
      try {
        parts.push(JSON.stringify(await pool.checkHealth({ timeoutMs })))
        if (detailed) parts.push(JSON.stringify(await pool.detailedHealth({ timeoutMs })))
      } catch (e) {
        recorder.recordError(`${what} health`, e)
      }
      for (const fn of [() => pool.metrics(), () => pool.prometheus(), () => pool.status(), () => pool.options]) {
        try {
          const v = fn()
          parts.push(typeof v === 'string' ? v : JSON.stringify(v))
        } catch (e) {
          recorder.recordError(`${what} report`, e)
        }
      }
      parts.push(util.inspect(pool, { showHidden: true, depth: 4 }))
      seen.push(`${what} reports: ${parts.join('\n')}`)
    },
    /**
     * Awaits `promise` and returns { ok, value, error, code, ms }; a
     * rejection is recorded for the scan.
     */
    async settle(promise, what = 'call') {
      const started = Date.now()
      try {
        const value = await promise
        return { ok: true, value, error: null, code: null, ms: Date.now() - started }
      } catch (error) {
        recorder.recordError(what, error)
        return { ok: false, value: undefined, error, code: error && error.code, ms: Date.now() - started }
      }
    },
  }
  return recorder
}

// ---------------------------------------------------------------------------
// server URLs with secrets

function withPassword(base, password, user) {
  const u = new URL(base)
  if (user !== undefined) u.username = encodeURIComponent(user)
  u.password = encodeURIComponent(password)
  return u.toString()
}

async function probe(url) {
  const pool = new Pool({ url, maxConnections: 1, connectTimeoutMs: 5000, acquireTimeoutMs: 8000 })
  try {
    await pool.ping()
    return true
  } catch (_) {
    return false
  } finally {
    await pool.close({ timeoutMs: 1000 }).catch(() => {})
  }
}

/**
 * The PostgreSQL URL the suite uses: TEST_POSTGRES_URL with the suite's
 * secret as password when the server accepts it (trust), else as given.
 */
async function postgresUrl() {
  if (!PG_BASE) return null
  if (passwordOf(PG_BASE)) return PG_BASE
  const candidate = withPassword(PG_BASE, SECRETS.postgres)
  return (await probe(candidate)) ? candidate : PG_BASE
}

/**
 * The MariaDB/MySQL URL: a user `sdp_f_<pid>` with the suite's secret, made
 * with the admin URL's rights (root locally); falls back to TEST_MYSQL_URL
 * as given when that is refused. `drop()` removes the user.
 */
async function mysqlAccount() {
  if (!MY_BASE) return null
  const base = new URL(MY_BASE)
  const database = decodeURIComponent(base.pathname.slice(1))
  const user = `sdp_f_${realProcess.pid}`
  const admin = new Pool({ url: MY_BASE, maxConnections: 1 })
  let created = false
  try {
    await admin.execute(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${SECRETS.mysql}'`)
    created = true
    await admin.execute(`ALTER USER '${user}'@'%' IDENTIFIED BY '${SECRETS.mysql}'`)
    await admin.execute(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'%'`)
  } catch (_) {
    /* no right to create users: use the URL as given */
  }
  const candidate = withPassword(MY_BASE, SECRETS.mysql, user)
  const usable = created && (await probe(candidate))
  return {
    url: usable ? candidate : MY_BASE,
    user: usable ? user : decodeURIComponent(base.username),
    database,
    dedicated: usable,
    async drop() {
      try {
        if (created) await admin.execute(`DROP USER IF EXISTS '${user}'@'%'`)
      } catch (_) {
        /* best effort */
      } finally {
        await admin.close({ timeoutMs: 2000 }).catch(() => {})
      }
    },
  }
}

// ---------------------------------------------------------------------------
// processes and PostgreSQL control

/** Runs a command without blocking the event loop. */
function run(cmd, args, { timeoutMs = 60000, env, cwd } = {}) {
  return new Promise((resolve) => {
    const started = Date.now()
    let child
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd, env: env ? { ...realProcess.env, ...env } : undefined })
    } catch (error) {
      resolve({ code: -1, stdout: '', stderr: String(error), ms: 0 })
      return
    }
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => {
      stderr += String(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code === null ? -1 : code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })
}

function pgTarget() {
  if (!PG_BASE) return null
  const u = new URL(PG_BASE)
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 5432) }
}

/** The local cluster serving TEST_POSTGRES_URL's port, or why there is none. */
async function pgCluster() {
  const target = pgTarget()
  if (!target) return { reason: 'TEST_POSTGRES_URL is not set' }
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(target.host)) return { reason: `server ${target.host} is not local` }
  if (typeof realProcess.getuid === 'function' && realProcess.getuid() !== 0) return { reason: 'not root: cannot run pg_ctlcluster' }
  const r = await run('pg_lsclusters', ['-h'], { timeoutMs: 10000 })
  if (r.code !== 0) return { reason: `pg_lsclusters failed: ${r.stderr.trim()}` }
  for (const line of r.stdout.split('\n')) {
    const [version, name, port] = line.trim().split(/\s+/)
    if (Number(port) === target.port) return { version, name, ...target }
  }
  return { reason: `no local cluster on port ${target.port}` }
}

async function pgIsReady() {
  const t = pgTarget()
  const r = await run('pg_isready', ['-h', t.host, '-p', String(t.port), '-q', '-t', '2'], { timeoutMs: 5000 })
  return r.code === 0
}

function pgCtl(cluster, action) {
  return run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, action], { timeoutMs: 90000 })
}

/**
 * Makes sure the cluster runs and answers (restore step): starts it if
 * needed, then waits for pg_isready. Resolves true once it answers.
 */
async function ensurePgUp(cluster, timeoutMs = 90000) {
  const deadline = Date.now() + timeoutMs
  if (await pgIsReady()) return true
  let startedOnce = false
  while (Date.now() < deadline) {
    if (await pgIsReady()) return true
    const st = await run('pg_ctlcluster', [cluster.version, cluster.name, 'status'], { timeoutMs: 10000 })
    // status: 0 running, 3 stopped.
    if (st.code === 3 || (!startedOnce && st.code !== 0)) {
      startedOnce = true
      await pgCtl(cluster, 'start')
    }
    await sleep(250)
  }
  return pgIsReady()
}

// ---------------------------------------------------------------------------
// small things

/** SQL selecting the server-side id of the connection as `id`. */
function connectionIdSql(backend, sleepSeconds = 0) {
  // A slow one also says when it finished, on the server's clock (the
  // select list is evaluated left to right, so after the sleep): one that
  // finished before a kill was issued legitimately ran on that connection.
  if (backend === 'postgres') {
    return sleepSeconds
      ? `SELECT pg_backend_pid() AS id, pg_sleep(${sleepSeconds})::text AS s, ${serverClockSql(backend)} AS done /* ${MARKER} */`
      : 'SELECT pg_backend_pid() AS id'
  }
  return sleepSeconds
    ? `SELECT CONNECTION_ID() AS id, SLEEP(${sleepSeconds}) AS s, ${serverClockSql(backend)} AS done /* ${MARKER} */`
    : 'SELECT CONNECTION_ID() AS id'
}

/** The server's wall clock now (not the statement's start), in seconds since the epoch, as text. */
function serverClockSql(backend) {
  return backend === 'postgres' ? 'extract(epoch from clock_timestamp())::text' : 'CAST(UNIX_TIMESTAMP(SYSDATE(6)) AS CHAR)'
}

/** Marks this process's slow statements, so server views can tell them from anyone else's. */
const MARKER = `sdp-faults-${realProcess.pid}`

/** Resolves with the promise's value, or throws after `ms` naming `what`. */
async function within(promise, ms, what) {
  const r = await helpers.settleWithin(
    Promise.resolve(promise).then(
      (v) => ({ v }),
      (e) => ({ e }),
    ),
    ms,
  )
  if (r === 'hung') throw new Error(`${what} did not settle within ${ms} ms`)
  if ('e' in r) throw r.e
  return r.v
}

module.exports = {
  ...helpers,
  SECRETS,
  CODES,
  SCAN_DIR,
  PG_BASE,
  MY_BASE,
  realProcess,
  isError,
  describeError,
  forms,
  allSecrets,
  findSecret,
  installSecretScan,
  postgresUrl,
  mysqlAccount,
  withPassword,
  run,
  pgCluster,
  pgIsReady,
  pgCtl,
  ensurePgUp,
  connectionIdSql,
  serverClockSql,
  get MARKER() {
    return MARKER
  },
  within,
}

/** Appends one line of figures to SCAN_DIR/report.jsonl (read for the suite's closing table). */
function report(entry) {
  try {
    fs.mkdirSync(SCAN_DIR, { recursive: true })
    fs.appendFileSync(path.join(SCAN_DIR, 'report.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`)
  } catch (_) {
    /* figures only */
  }
}

module.exports.report = report
