#!/usr/bin/env node
'use strict'
// The bench: runs W1-W7 and the pgbench ceiling through shopify-db-pool and
// its peers, interleaved over several rounds, and writes results/latest.*.
//
//   node bench/run.js [--quick] [--backends=sqlite,postgres,mysql] [--rounds=N]
//
// Installs bench/'s own dependencies when missing (npm ci) and re-runs
// itself under --expose-gc (W7 reads memory after garbage collection).
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

function parseArgs(argv) {
  const args = { quick: false, backends: null, rounds: null }
  for (const a of argv) {
    if (a === '--quick') args.quick = true
    else if (a.startsWith('--backends=')) args.backends = a.slice(11).split(',').filter(Boolean)
    else if (a.startsWith('--rounds=')) args.rounds = Number(a.slice(9))
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/run.js [--quick] [--backends=sqlite,postgres,mysql] [--rounds=N]')
      process.exit(0)
    } else {
      console.error(`unknown argument: ${a}`)
      process.exit(2)
    }
  }
  return args
}

const args = parseArgs(process.argv.slice(2))

if (typeof global.gc !== 'function') {
  require('./lib/ensure.js').ensureInstalled()
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}

const { sizes: SIZES, TABLE_ROWS } = require('./config.js')
const { median } = require('./lib/stats.js')
const { readOrder } = require('./lib/data.js')
const { openAdmin } = require('./lib/admin.js')
const { loadOurs, ROOT } = require('./lib/addon.js')
const { machineInfo } = require('./lib/machine.js')
const { peers: PEERS, BACKENDS } = require('./peers/index.js')
const w1 = require('./workloads/w1-point-select.js')
const w2 = require('./workloads/w2-concurrent.js')
const w3 = require('./workloads/w3-health.js')
const w4 = require('./workloads/w4-concurrent3.js')
const w5 = require('./workloads/w5-insert.js')
const w7 = require('./workloads/w7-memory.js')
const pgbench = require('./workloads/pgbench.js')
const report = require('./report.js')

const ROUND_WORKLOADS = [w1, w3, w4, w2, w5]

const fmt = (v) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3))) : v)
const summary = (res) =>
  Object.entries(res)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(' ')

// Medians over rounds of every numeric field; booleans hold when all do;
// other fields are kept when there was a single run (W7's checkpoints).
function medians(results) {
  const out = {}
  for (const key of Object.keys(results[0] || {})) {
    const values = results.map((r) => r[key])
    if (typeof values[0] === 'number') out[key] = median(values)
    else if (typeof values[0] === 'boolean') out[key] = values.every(Boolean)
    else if (results.length === 1) out[key] = values[0]
  }
  return out
}

async function runBackend(backend, sizes, rounds, record, log) {
  const admin = await openAdmin(backend)
  const version = await admin.version()
  await admin.setup()
  log(`${backend}: ${version}; ${TABLE_ROWS} rows loaded`)

  const contenders = []
  for (const peer of PEERS[backend]()) {
    try {
      await peer.setup()
      contenders.push(peer)
    } catch (err) {
      record.error(backend, peer.name, 'setup', err)
      log(`  ${peer.name}: setup failed: ${err.message}`)
    }
  }

  const ours = contenders.find((p) => p.ours)
  const engine = ours && (await ours.engineVersion())
  const versions = engine ? `${version}; ${engine} (shopify-db-pool's)` : version

  const ids = readOrder(TABLE_ROWS, Math.max(sizes.w2Ops, sizes.w1Ops, 100000))
  const ctx = { sizes, ids, admin }
  for (const peer of contenders) {
    try {
      await w2.inFlight(peer, { ops: sizes.warmupOps, concurrency: sizes.w2InFlight, ids })
      for (let i = 0; i < 50; i++) {
        await peer.select1()
        if (peer.health) await peer.health()
        if (peer.concurrent3) await peer.concurrent3()
      }
    } catch (err) {
      record.error(backend, peer.name, 'warmup', err)
    }
  }

  const pgbenchVersion = backend === 'postgres' ? pgbench.available() : null
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length])
    for (const workload of ROUND_WORKLOADS) {
      for (const peer of order) {
        if (peer.workloads && !peer.workloads.includes(workload.id)) continue
        try {
          const res = await workload.run(peer, { ...ctx, round })
          if (workload === w2) {
            const { eldP99Ms, eldMaxMs, eldSamples, ...rest } = res
            if (peer.w2Extras) Object.assign(rest, peer.w2Extras())
            record.add(backend, peer.name, 'W2', rest)
            record.add(backend, peer.name, 'W6', { eldP99Ms, eldMaxMs, eldSamples })
          } else {
            record.add(backend, peer.name, workload.id, res)
          }
          log(`  [${backend} ${round + 1}/${rounds}] ${workload.id} ${peer.name}: ${summary(res)}`)
        } catch (err) {
          record.error(backend, peer.name, workload.id, err)
          log(`  [${backend} ${round + 1}/${rounds}] ${workload.id} ${peer.name}: FAILED ${err.message}`)
        }
      }
    }
    if (pgbenchVersion) {
      for (const clients of [10, 1]) {
        const name = `pgbench -c ${clients}`
        try {
          const r = await pgbench.run({ clients, seconds: sizes.pgbenchSeconds })
          if (clients === 1) record.add(backend, name, 'W1', { p50Us: r.p50Us, p99Us: r.p99Us, opsPerSec: r.tps, latAvgUs: r.latAvgUs })
          else record.add(backend, name, 'W2', { opsPerSec: r.tps, latAvgUs: r.latAvgUs })
          log(`  [${backend} ${round + 1}/${rounds}] ${name}: ${summary(r)}`)
        } catch (err) {
          record.error(backend, name, 'pgbench', err)
          log(`  [${backend} ${round + 1}/${rounds}] ${name}: FAILED ${err.message}`)
        }
      }
    }
  }

  if (ours) {
    try {
      const res = await w7.run(backend, sizes)
      record.add(backend, ours.name, 'W7', res)
      log(`  [${backend}] W7 ${ours.name}: ${summary(res)}`)
    } catch (err) {
      record.error(backend, ours.name, 'W7', err)
      log(`  [${backend}] W7 ${ours.name}: FAILED ${err.message}`)
    }
  }

  for (const peer of contenders) {
    try {
      await peer.close()
    } catch (err) {
      record.error(backend, peer.name, 'close', err)
    }
  }
  await admin.close()
  return { version: versions, pgbench: pgbenchVersion }
}

async function main() {
  const started = Date.now()
  const loadAtStart = os.loadavg()
  const mode = args.quick ? 'quick' : 'full'
  const sizes = { ...SIZES[mode] }
  const rounds = args.rounds || sizes.rounds
  sizes.rounds = rounds
  const backends = args.backends || BACKENDS
  const addon = loadOurs()
  const log = (line) => console.log(line)
  log(`shopify-db-pool bench (${mode}): ${backends.join(', ')}; ${rounds} rounds`)

  const raw = {}
  const errors = {}
  const record = {
    add(backend, peer, workload, res) {
      ;(((raw[backend] ??= {})[peer] ??= {})[workload] ??= []).push(res)
    },
    error(backend, peer, workload, err) {
      ;((errors[backend] ??= {})[peer] ??= []).push(`${workload}: ${err.message}`)
    },
  }

  const servers = {}
  let pgbenchVersion = null
  for (const backend of backends) {
    if (!PEERS[backend]) throw new Error(`unknown backend ${backend}`)
    try {
      const info = await runBackend(backend, sizes, rounds, record, log)
      servers[backend] = info.version
      if (info.pgbench) pgbenchVersion = info.pgbench
    } catch (err) {
      record.error(backend, '*', 'backend', err)
      log(`${backend}: FAILED ${err.stack}`)
    }
  }

  const results = {
    mode,
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 100) / 10,
    sizes,
    errors,
    machine: await machineInfo({
      root: ROOT,
      addon,
      servers,
      pgbench: pgbenchVersion,
      loadAverage: { start: loadAtStart, end: os.loadavg() },
    }),
    backends: Object.fromEntries(
      Object.entries(raw).map(([backend, byPeer]) => [
        backend,
        {
          peers: Object.keys(byPeer),
          median: Object.fromEntries(
            Object.entries(byPeer).map(([peer, byW]) => [
              peer,
              Object.fromEntries(Object.entries(byW).map(([w, list]) => [w, medians(list)])),
            ]),
          ),
          rounds: byPeer,
          errors: errors[backend] || {},
        },
      ]),
    ),
  }
  const files = report.write(results, path.join(__dirname, 'results'))
  log(`\n${files.markdown}`)
  log(`wrote ${Object.values(files.paths).map((p) => path.relative(process.cwd(), p)).join(', ')} in ${results.durationS} s`)
  const failed = Object.keys(errors).length
  if (failed) log(`some measurements failed: see "errors" in latest.json`)
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
