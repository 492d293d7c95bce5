'use strict'
// Fault 6: hostile input by property-based testing (fast-check). Random
// values of every JS type as params, random SQL strings, random option
// objects and URLs, random misuse of transactions. What must hold: every
// call settles (within a bound) with a result or an Error whose `code` is a
// contract code; INTERNAL (a bug by definition) fails the property; the
// process lives; no connection leaks (inUse and waiting back to 0, a closed
// pool holds nothing); a URL that constructs never fails later as
// INVALID_URL; pool.options never shows the URL's password.
//
// Each property runs in a child process (fixtures/property-runner.js): a
// call that never settles keeps a native promise, and with it the process,
// alive; the child reports it and exits, so an addon hang fails the test
// instead of hanging the suite. Reproduce with the seed in the report:
//   FC_SEED=<seed> node __test__/faults/fixtures/property-runner.js <backend> <property>
// (SDP_URL=<the backend URL>). FC_RUNS sets the number of runs (default 150).
const path = require('node:path')
const H = require('./harness')

const scan = H.installSecretScan('property')
const RUNNER = path.join(__dirname, 'fixtures', 'property-runner.js')

/** Runs one property in a child; resolves with its JSON report. */
async function runProperty(backend, property, url) {
  const env = { SDP_URL: url || '', FC_RUNS: process.env.FC_RUNS || '150' }
  if (process.env.FC_SEED) env.FC_SEED = process.env.FC_SEED
  // In a scratch directory: a URL the addon reads as a relative file lands there.
  const r = await H.run(process.execPath, [RUNNER, backend, property], { timeoutMs: 240000, env, cwd: H.TMP })
  scan.record(`${backend} ${property} child stdout`, r.stdout)
  scan.record(`${backend} ${property} child stderr`, r.stderr)
  // The process lived: it exited by itself with its report, not by a signal or crash.
  expect({ signal: r.signal || null, code: r.code }).toEqual({ signal: null, code: 0 })
  const report = H.lastJson(r.stdout)
  H.report({ fault: `property ${property} on ${backend}`, ok: report.ok, runs: report.runs, seed: report.seed, counterexample: report.report && report.report.split('\n').slice(0, 4).join(' ') })
  return report
}

describe.each(H.backends())('fast-check on $name', (backend) => {
  let url
  let account = null

  beforeAll(async () => {
    if (backend.name === 'postgres') url = await H.postgresUrl()
    else if (backend.name === 'mysql') {
      account = await H.mysqlAccount()
      url = account.url
    } else url = backend.url()
  }, 60000)

  afterAll(async () => {
    if (account) await account.drop()
  }, 60000)

  const properties = [
    ['params', 'random values of every JS type as params (query, queryOne, execute, batch, transaction)'],
    ['mismatch', 'random placeholder/param counts: INVALID_ARGUMENT, never run'],
    ['sql', 'random SQL strings through every method'],
    ['tx', 'random sequences of transaction calls (use after finish, bad params, double commit)'],
    ...(backend.name === 'sqlite' ? [] : [['serverOptions', 'random options against the real server (applicationName, statement cache and timeouts, sizes)']]),
  ]

  test.each(properties)('%s: %s — every call settles, coded, never INTERNAL, no leak', async (property) => {
    const report = await runProperty(backend.name, property, url)
    expect(report.crashed).toBeUndefined()
    expect(report.report).toBeNull()
    expect(report.ok).toBe(true)
    if (report.status) {
      expect(report.status).toMatchObject({ inUse: 0, waiting: 0 })
      expect(report.status.afterwards).toBeUndefined()
    }
  }, 300000)
})

describe('fast-check on options objects and URLs (no server needed)', () => {
  test.each([
    ['options', 'random option objects (known keys with wrong values, unknown keys): constructor throws coded at once, or the pool works and closes'],
    ['hostileOptions', 'not an options object, or one whose getters throw: coded error, never an escaped exception'],
    ['urls', 'random server URLs: construct or throw coded at once; never the password in options; a closed port fails only as CONNECTION_FAILED/POOL_TIMEOUT'],
    ['sqliteUrls', 'random SQLite URLs, some with credentials: same rules; never the password in options'],
  ])('%s: %s', async (property) => {
    const report = await runProperty('none', property, '')
    expect(report.crashed).toBeUndefined()
    expect(report.report).toBeNull()
    expect(report.ok).toBe(true)
  }, 300000)
})
