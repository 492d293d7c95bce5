'use strict'
// The PostgreSQL ceiling: pgbench running the same point-select as a prepared
// statement (-M prepared) with 10 clients and with 1 client. pgbench cannot
// build a text key from a random number itself, so the key is built in SQL
// around the parameter ('offline_shop-' || $1 || '.myshopify.com'); the plan
// is the same primary-key lookup.
const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { DATA_DIR, urls, TABLE_ROWS } = require('../config.js')
const { percentile } = require('../lib/stats.js')
const { READ_TABLE } = require('../lib/data.js')

const SCRIPT = path.join(DATA_DIR, 'pgbench-point-select.sql')

function available() {
  const r = spawnSync('pgbench', ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

function connArgs() {
  const u = new URL(urls.postgres)
  const args = ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')]
  const env = { ...process.env }
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password)
  // The same transport as shopify-db-pool's: plain text to a server on this
  // host unless the URL names an sslmode (libpq would otherwise use TLS).
  const sslmode = u.searchParams.get('sslmode')
  if (sslmode) env.PGSSLMODE = sslmode
  else if (!env.PGSSLMODE && /^(localhost|127\.[\d.]+|\[::1\])$/i.test(u.hostname)) env.PGSSLMODE = 'disable'
  return { args, env, db: u.pathname.slice(1) || 'postgres' }
}

function exec(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { env, cwd: DATA_DIR })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench exited ${code}: ${out.slice(-500)}`))))
  })
}

async function run({ clients, seconds }) {
  fs.mkdirSync(DATA_DIR, { recursive: true })
  fs.writeFileSync(
    SCRIPT,
    `\\set n random(1, ${TABLE_ROWS})\nSELECT * FROM "${READ_TABLE}" WHERE "id" = 'offline_shop-' || :n || '.myshopify.com';\n`,
  )
  const { args, env, db } = connArgs()
  const prefix = `pgbench-log-${process.pid}-${clients}`
  const log = clients === 1
  const out = await exec(
    [
      ...args, '-n', '-M', 'prepared', '-f', SCRIPT,
      '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds),
      ...(log ? ['-l', `--log-prefix=${prefix}`] : []),
      db,
    ],
    env,
  )
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1])
  const latAvgMs = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1])
  const result = { tps, latAvgUs: latAvgMs * 1000 }
  if (log) {
    // Per-transaction log lines: client_id tx_no latency_us script_no epoch epoch_us
    const lat = []
    for (const f of fs.readdirSync(DATA_DIR).filter((f) => f.startsWith(prefix))) {
      const file = path.join(DATA_DIR, f)
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2])
        if (Number.isFinite(us) && line) lat.push(us)
      }
      fs.rmSync(file)
    }
    result.p50Us = percentile(lat, 50)
    result.p99Us = percentile(lat, 99)
  }
  if (!Number.isFinite(tps)) throw new Error(`could not read pgbench's output: ${out.slice(-500)}`)
  return result
}

module.exports = { id: 'pgbench', available, run }
