'use strict'
// No password from the URL anywhere: not in error messages, stacks or
// causes, not in health reports, metrics, prometheus(), pool.options, not in
// process warnings or console output, and not in what Node itself prints for
// an unhandled rejection (checked in a child process, whose raw stdout and
// stderr also catch anything the native code might print).
const util = require('node:util')
const { Pool, runNode, silentServer, withCredentials, settleWithin } = require('./helpers')

const LIB = require.resolve('../lib/index.js')
const PG = process.env.TEST_POSTGRES_URL
const MY = process.env.TEST_MYSQL_URL

const CLOSED_PW = 'S3cretPw'
const WRONG_PW = 'Wr0ngPassw0rd!'
// Characters that need percent-encoding in a URL: both forms must stay hidden.
const ODD_PW = 'Od@d:P/w%rd#9'

/** Every form in which a password could show up. */
function forms(secret) {
  return [...new Set([secret, encodeURIComponent(secret), encodeURI(secret)])]
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

// Jest gives each test file its own `process` object; warnings and raw
// writes happen on Node's real one.
const nodeProcess = require('node:vm').runInThisContext('process')

/** Captures console output, stdout/stderr writes and process warnings. */
function captureOutput() {
  const seen = []
  const spies = ['log', 'info', 'warn', 'error', 'debug', 'trace'].map((m) =>
    jest.spyOn(console, m).mockImplementation((...args) => seen.push(util.format(...args))),
  )
  const outWrite = nodeProcess.stdout.write
  const errWrite = nodeProcess.stderr.write
  nodeProcess.stdout.write = function (chunk, ...rest) {
    seen.push(String(chunk))
    return outWrite.call(this, chunk, ...rest)
  }
  nodeProcess.stderr.write = function (chunk, ...rest) {
    seen.push(String(chunk))
    return errWrite.call(this, chunk, ...rest)
  }
  const onWarning = (w) => seen.push(describeError(w))
  nodeProcess.on('warning', onWarning)
  return {
    text: () => seen.join('\n'),
    restore() {
      for (const s of spies) s.mockRestore()
      nodeProcess.stdout.write = outWrite
      nodeProcess.stderr.write = errWrite
      nodeProcess.off('warning', onWarning)
    },
  }
}

/**
 * Drives a pool through everything that can fail or report, and returns
 * all the text it produced. Never throws.
 */
async function exercise(url, extra = {}) {
  const texts = []
  const note = (label, value) => texts.push(`--- ${label}\n${value}`)
  const attempt = async (label, fn) => {
    try {
      const value = await settleWithin(Promise.resolve().then(fn), 8000)
      note(label, typeof value === 'string' ? value : util.inspect(value, { depth: 8 }) + '\n' + JSON.stringify(value))
    } catch (e) {
      note(`${label} (rejected)`, describeError(e))
    }
  }

  let pool
  try {
    pool = new Pool({ url, connectTimeoutMs: 2000, acquireTimeoutMs: 3000, ...extra })
  } catch (e) {
    note('constructor (threw)', describeError(e))
    return { text: texts.join('\n'), constructed: false }
  }
  note('options', JSON.stringify(pool.options) + '\n' + util.inspect(pool.options))
  note('inspect(pool)', util.inspect(pool, { showHidden: true, depth: 4 }) + String(pool))
  await attempt('connect', () => pool.connect())
  await attempt('query', () => pool.query('SELECT 1 AS x'))
  await attempt('queryOne', () => pool.queryOne('SELECT 1 AS x'))
  await attempt('execute', () => pool.execute('SELECT 1 AS x'))
  await attempt('syntax error', () => pool.query('SELEC nonsense'))
  await attempt('begin', async () => {
    const tx = await pool.begin()
    await tx.rollback()
    return 'began'
  })
  await attempt('transaction', () => pool.transaction(async (tx) => tx.query('SELECT 1 AS x')))
  await attempt('batch', () => pool.batch([{ sql: 'SELECT 1 AS x' }]))
  await attempt('ping', () => pool.ping())
  await attempt('checkHealth', () => pool.checkHealth({ timeoutMs: 2500 }))
  await attempt('detailedHealth', () => pool.detailedHealth({ timeoutMs: 2500 }))
  await attempt('testConcurrentQueries', () => pool.testConcurrentQueries(2))
  await attempt('cleanupExpiredSessions', () => pool.cleanupExpiredSessions({ table: 'NoSuchSessionTable_x' }))
  note('metrics', JSON.stringify(pool.metrics()))
  note('prometheus', pool.prometheus())
  note('status', JSON.stringify(pool.status()))
  await attempt('close', () => pool.close({ timeoutMs: 1000 }))
  await attempt('query after close', () => pool.query('SELECT 1 AS x'))
  await attempt('checkHealth after close', () => pool.checkHealth())
  note('options after close', JSON.stringify(pool.options))
  return { text: texts.join('\n'), constructed: true }
}

function expectNoSecret(text, secret) {
  for (const form of forms(secret)) {
    const at = text.indexOf(form)
    // Show where it leaked, not just that it did.
    expect(at === -1 ? null : text.slice(Math.max(0, at - 200), at + 200)).toBeNull()
  }
}

describe('no password in anything the pool produces', () => {
  let output
  beforeEach(() => {
    output = captureOutput()
  })
  afterEach(() => {
    output.restore()
  })

  const cases = [
    ['postgres, closed port', `postgres://postgres:${CLOSED_PW}@127.0.0.1:1/test`, CLOSED_PW],
    ['mysql, closed port', `mysql://root:${CLOSED_PW}@127.0.0.1:1/test`, CLOSED_PW],
    ['mariadb scheme, closed port', `mariadb://root:${CLOSED_PW}@127.0.0.1:1/test`, CLOSED_PW],
    ['postgresql scheme, password as a query parameter', `postgresql://postgres@127.0.0.1:1/test?password=${CLOSED_PW}`, CLOSED_PW],
    ['postgres, percent-encoded password', `postgres://postgres:${encodeURIComponent(ODD_PW)}@127.0.0.1:1/test`, ODD_PW],
    ['mysql, percent-encoded password', `mysql://root:${encodeURIComponent(ODD_PW)}@127.0.0.1:1/test`, ODD_PW],
    ['postgres, Prisma parameters', `postgres://postgres:${CLOSED_PW}@127.0.0.1:1/test?connection_limit=3&pool_timeout=2&schema=public`, CLOSED_PW],
  ]

  test.each(cases)('%s', async (_label, url, secret) => {
    const { text, constructed } = await exercise(url)
    expect(constructed).toBe(true)
    // Positive control: the failure was reported (so there was text to leak into).
    expect(text).toMatch(/CONNECTION_FAILED/)
    expectNoSecret(text, secret)
    expectNoSecret(output.text(), secret)
  })

  test.each([
    ['unparsable port', `postgres://postgres:${CLOSED_PW}@127.0.0.1:notaport/test`],
    ['port out of range', `mysql://root:${CLOSED_PW}@127.0.0.1:99999/test`],
    ['unknown scheme', `mongodb://root:${CLOSED_PW}@127.0.0.1/test`],
    ['bad connection_limit', `postgres://postgres:${CLOSED_PW}@127.0.0.1/test?connection_limit=lots`],
    ['bad pool_timeout', `mysql://root:${CLOSED_PW}@127.0.0.1/test?pool_timeout=-1`],
    ['bad sslmode', `postgres://postgres:${CLOSED_PW}@127.0.0.1/test?sslmode=sometimes`],
    ['broken IPv6 host', `postgres://postgres:${CLOSED_PW}@[::1/test`],
    ['odd password, broken port', `postgres://postgres:${encodeURIComponent(ODD_PW)}@127.0.0.1:x/test`],
  ])('an invalid URL (%s) throws without echoing the password', async (_label, url) => {
    const { text, constructed } = await exercise(url)
    expect(constructed).toBe(false)
    expect(text).toMatch(/INVALID_URL|INVALID_ARGUMENT/)
    expectNoSecret(text, CLOSED_PW)
    expectNoSecret(text, ODD_PW)
    expectNoSecret(output.text(), CLOSED_PW)
  })

  test.each(['postgres', 'mysql'])('%s server that hangs: the health timeout error has no password', async (scheme) => {
    const server = await silentServer()
    try {
      const user = scheme === 'postgres' ? 'postgres' : 'root'
      const url = `${scheme}://${user}:${CLOSED_PW}@127.0.0.1:${server.port}/test`
      const pool = new Pool({ url, connectTimeoutMs: 800, acquireTimeoutMs: 1500 })
      const texts = [
        JSON.stringify(await pool.checkHealth({ timeoutMs: 300 })),
        JSON.stringify(await pool.detailedHealth({ timeoutMs: 300 })),
        await pool.query('SELECT 1').then(
          () => 'resolved',
          (e) => describeError(e),
        ),
        JSON.stringify(pool.metrics()),
        pool.prometheus(),
        JSON.stringify(pool.options),
      ]
      await settleWithin(pool.close({ timeoutMs: 300 }), 3000)
      const text = texts.join('\n')
      expect(text).toMatch(/unhealthy/)
      expectNoSecret(text, CLOSED_PW)
      expectNoSecret(output.text(), CLOSED_PW)
    } finally {
      await server.close()
    }
  })

  const servers = [
    ...(PG ? [['postgres', PG]] : []),
    ...(MY ? [['mysql', MY]] : []),
  ]
  if (servers.length) {
    describe.each(servers)('real %s server', (_name, base) => {
      test('wrong password (trust auth may accept it): nothing leaks either way', async () => {
        const { text } = await exercise(withCredentials(base, { password: WRONG_PW }))
        expectNoSecret(text, WRONG_PW)
        expectNoSecret(output.text(), WRONG_PW)
      })

      test('a user that does not exist: the login failure is reported without the password', async () => {
        const { text } = await exercise(withCredentials(base, { user: 'no_such_user_sdp', password: WRONG_PW }))
        expect(text).toMatch(/CONNECTION_FAILED/)
        expectNoSecret(text, WRONG_PW)
        expectNoSecret(output.text(), WRONG_PW)
      })

      test('percent-encoded password for a user that does not exist', async () => {
        const { text } = await exercise(withCredentials(base, { user: 'no_such_user_sdp', password: ODD_PW }))
        expect(text).toMatch(/CONNECTION_FAILED/)
        expectNoSecret(text, ODD_PW)
        expectNoSecret(output.text(), ODD_PW)
      })

      test('the real URL\'s own password (if it has one) stays out of a working pool\'s reports', async () => {
        const secret = decodeURIComponent(new URL(base).password || '')
        const url = secret ? base : withCredentials(base, { password: WRONG_PW })
        const pool = new Pool({ url })
        try {
          await pool.query('SELECT 1 AS x').catch(() => {})
          const text = [
            JSON.stringify(await pool.checkHealth()),
            JSON.stringify(await pool.detailedHealth()),
            JSON.stringify(pool.metrics()),
            pool.prometheus(),
            JSON.stringify(pool.options),
            await pool.query('SELEC nonsense').then(
              () => 'resolved',
              (e) => describeError(e),
            ),
          ].join('\n')
          expectNoSecret(text, secret || WRONG_PW)
        } finally {
          await pool.close()
        }
      })
    })
  }
})

describe('no password in what a process prints', () => {
  // Whatever the native code or Node prints goes to the real fd 1/2: a child
  // process captures it all, with Rust logging turned all the way up, and an
  // unhandled rejection at the end makes Node print the error and its cause.
  const script = `
    const util = require('node:util')
    const { Pool } = require(${JSON.stringify(LIB)})
    const urls = JSON.parse(process.env.SDP_URLS)
    process.on('warning', (w) => console.error('WARNING', util.inspect(w)))
    ;(async () => {
      for (const url of urls) {
        let pool
        try { pool = new Pool({ url, connectTimeoutMs: 2000, acquireTimeoutMs: 2000, leakDetectionMs: 50 }) }
        catch (e) { console.error('constructor', e); continue }
        for (const run of [() => pool.query('SELECT 1'), () => pool.begin(), () => pool.ping()]) {
          try { await run() } catch (e) { console.error(e); console.log(util.inspect(e, { showHidden: true, depth: 6 })) }
        }
        console.log(JSON.stringify(await pool.checkHealth({ timeoutMs: 2000 })))
        console.log(JSON.stringify(await pool.detailedHealth({ timeoutMs: 2000 })))
        console.log(pool.prometheus())
        console.log(JSON.stringify(pool.options), util.inspect(pool))
        await new Promise((r) => setTimeout(r, 100))
        await pool.close({ timeoutMs: 500 })
      }
      // Let Node print an unhandled rejection (message, stack, cause) itself.
      const last = new Pool({ url: urls[0], connectTimeoutMs: 2000 })
      await last.query('SELECT 1')
    })()
  `

  test('child process stdout/stderr (RUST_LOG=trace, unhandled rejection) never contain the password', async () => {
    const urls = [
      `postgres://postgres:${CLOSED_PW}@127.0.0.1:1/test`,
      `mysql://root:${CLOSED_PW}@127.0.0.1:1/test`,
      `postgres://postgres:${CLOSED_PW}@127.0.0.1:bad/test`,
    ]
    if (PG) urls.push(withCredentials(PG, { user: 'no_such_user_sdp', password: CLOSED_PW }))
    if (MY) urls.push(withCredentials(MY, { user: 'no_such_user_sdp', password: CLOSED_PW }))
    if (PG) urls.push(withCredentials(PG, { password: CLOSED_PW }))
    const r = await runNode(script, {
      env: { SDP_URLS: JSON.stringify(urls), RUST_LOG: 'trace', RUST_BACKTRACE: '1', NODE_DEBUG: '' },
      timeoutMs: 60000,
    })
    const all = r.stdout + '\n' + r.stderr
    expect(r.killed).toBe(false)
    // The unhandled rejection ends the child with an error, and Node printed it.
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/CONNECTION_FAILED|connection|Connection/)
    expect(all).toMatch(/unhealthy/)
    expectNoSecret(all, CLOSED_PW)
  })
})
