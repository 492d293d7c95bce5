'use strict'
// What the figures were measured on: CPU, cores, memory, OS, Node, package
// and server versions, the addon build.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { monitorEventLoopDelay } = require('node:perf_hooks')

const PACKAGES = [
  'better-sqlite3', 'sqlite3', 'pg', 'postgres', 'mysql2',
  'prisma', '@prisma/client', '@prisma/adapter-better-sqlite3', '@prisma/adapter-pg',
]

function cpuModel() {
  try {
    const m = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))
    if (m) return m[1].trim()
  } catch {}
  return os.cpus()[0]?.model || 'unknown'
}

function version(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', pkg, 'package.json'), 'utf8')).version
  } catch {
    return null
  }
}

function git(root, ...args) {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

// The event loop's delay with nothing running: the floor under W6's figures.
async function idleEventLoopDelay(ms = 300) {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  await new Promise((resolve) => setTimeout(resolve, ms))
  h.disable()
  return { p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6 }
}

async function machineInfo({ root, addon, servers, pgbench, loadAverage }) {
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    packages: {
      'shopify-db-pool': `${JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version} (commit ${git(root, 'rev-parse', '--short', 'HEAD')}${git(root, 'status', '--porcelain', '--', 'src', 'lib') ? ', modified' : ''}; addon sha256 ${addon.sha}, built ${addon.builtAt})`,
      ...Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
    },
    servers,
    pgbench,
    // 1, 5 and 15 minute load averages when the run started and ended: other
    // work on the machine (builds, tests) shows here and disturbs the figures.
    loadAverage,
    idleEventLoopDelay: await idleEventLoopDelay(),
  }
}

module.exports = { machineInfo }
