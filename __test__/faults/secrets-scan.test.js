'use strict'
// Fault 8: secrets. No password from any test URL appears in anything
// produced while the suite runs: error messages, stacks and causes, process
// warnings, console output, raw stdout/stderr, health, metrics, Prometheus
// and Remix route output.
//
// Every file of this suite runs its faults with URLs carrying distinctive
// passwords (harness.js: SECRETS; PostgreSQL trusts 127.0.0.1 so it takes
// any password, MariaDB gets a throw-away user with one) and scans what it
// captured after its own tests (installSecretScan). This file:
//  1. drives a child process through those faults again with RUST_LOG=trace
//     and scans its raw stdout/stderr (what the native code prints as well),
//     including a password with an apostrophe and one that needs
//     percent-encoding;
//  2. re-scans what the other files of this run left in SCAN_DIR.
const fs = require('node:fs')
const path = require('node:path')
const H = require('./harness')

const scan = H.installSecretScan('secrets-scan')
const TOUR = path.join(__dirname, 'fixtures', 'secrets-tour.js')

// Extra passwords for the child: an apostrophe (valid unencoded in a URL's
// user info) and characters that must be percent-encoded.
const APOSTROPHE_PW = "pgAp0s'trophe_Pw9"
const ENCODED_PW = 'pg%F4ult/S3cr@t?#'

function secretsOf(urls) {
  const list = [...H.allSecrets(), APOSTROPHE_PW, ENCODED_PW]
  for (const u of urls) {
    try {
      const pw = new URL(u).password
      if (pw && decodeURIComponent(pw).length >= 6) list.push(decodeURIComponent(pw))
    } catch (_) {
      /* not a URL */
    }
  }
  return [...new Set(list)]
}

describe('no password in anything produced by the faults', () => {
  let account = null
  afterAll(async () => {
    if (account) await account.drop()
  }, 60000)

  test('a child driven through the faults (RUST_LOG=trace): raw stdout/stderr contain no password', async () => {
    const pgUrls = []
    const myUrls = []
    if (H.PG_BASE) {
      const url = await H.postgresUrl()
      pgUrls.push(url)
      // Trust authentication takes any password: also try the odd ones.
      if (!new URL(H.PG_BASE).password) {
        pgUrls.push(H.withPassword(H.PG_BASE, APOSTROPHE_PW), H.withPassword(H.PG_BASE, ENCODED_PW))
      }
    }
    if (H.MY_BASE) {
      account = await H.mysqlAccount()
      myUrls.push(account.url)
    }
    const closed = [
      ['postgres closed port', `postgres://postgres:${encodeURIComponent(H.SECRETS.postgres)}@127.0.0.1:1/test`],
      ['postgres closed port, apostrophe', `postgres://postgres:${APOSTROPHE_PW}@127.0.0.1:1/test`],
      ['mysql closed port', `mysql://root:${H.SECRETS.mysql}@127.0.0.1:1/test`],
      ['mariadb closed port, encoded', `mariadb://root:${encodeURIComponent(ENCODED_PW)}@127.0.0.1:1/test`],
    ]
    if (H.PG_BASE) closed.push(['postgres unknown user', H.withPassword(H.PG_BASE, H.SECRETS.postgres, 'no_such_user_sdp_faults')])
    if (H.MY_BASE) closed.push(['mysql wrong password', H.withPassword(account.url, `${H.SECRETS.mysql}x`)])

    const r = await H.run(process.execPath, [TOUR], {
      timeoutMs: 180000,
      env: {
        SDP_PG_URLS: JSON.stringify(pgUrls),
        SDP_MY_URLS: JSON.stringify(myUrls),
        SDP_CLOSED_URLS: JSON.stringify(closed),
        RUST_LOG: 'trace',
        RUST_BACKTRACE: '1',
      },
    })
    const all = `${r.stdout}\n${r.stderr}`
    const secrets = secretsOf([...pgUrls, ...myUrls, ...closed.map((c) => c[1])])
    // Positive controls: the faults did happen and were reported.
    expect(all).toMatch(/CONNECTION_FAILED/)
    expect(all).toMatch(/unhealthy/)
    expect(all).toMatch(/db_pool_/)
    expect(all).not.toMatch(/--- tour failed/)
    // Each server pool did log in with its secret-carrying URL.
    expect((all.match(/--- postgres connect \(ok\)/g) || []).length).toBe(pgUrls.length)
    expect((all.match(/--- mysql connect \(ok\)/g) || []).length).toBe(myUrls.length)
    if (pgUrls.length || myUrls.length) {
      expect(all).toMatch(/POOL_TIMEOUT/)
      expect(all).toMatch(/TIMEOUT/)
      expect(all).toMatch(/DB_POOL_LEAK/)
      expect(all).toMatch(/still running after 300 ms/)
      // The shutdown had to abandon the statement: exit 1, by the hooks.
      expect(r.code).toBe(1)
    }
    H.report({ fault: 'secrets: child tour', bytesScanned: all.length, secrets: secrets.length, exit: r.code })
    expect(H.findSecret(all, secrets)).toBeNull()
  }, 240000)

  test('what the other fault files captured in this run (errors, warnings, console, reports) contains no password', () => {
    const since = Date.now() - process.uptime() * 1000
    let files = []
    try {
      files = fs
        .readdirSync(H.SCAN_DIR)
        .filter((f) => f.endsWith('.json') && f !== 'secrets-scan.json')
        .map((f) => path.join(H.SCAN_DIR, f))
        .filter((f) => fs.statSync(f).mtimeMs >= since)
    } catch (_) {
      /* this file ran first: each file has scanned itself anyway */
    }
    const scanned = []
    for (const file of files) {
      const { label, text } = JSON.parse(fs.readFileSync(file, 'utf8'))
      scanned.push(`${label} (${text.length} chars)`)
      expect({ label, leak: H.findSecret(text) }).toEqual({ label, leak: null })
    }
    scan.record('scanned files', scanned.join(', '))
    H.report({ fault: 'secrets: files scanned', files: scanned })
  })
})
