'use strict'
// Makes sure bench/node_modules matches package-lock.json (npm ci otherwise)
// and that the Prisma clients are generated.
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const BENCH = path.resolve(__dirname, '..')

function depsCurrent() {
  const installed = path.join(BENCH, 'node_modules', '.package-lock.json')
  if (!fs.existsSync(installed)) return false
  return fs.statSync(installed).mtimeMs >= fs.statSync(path.join(BENCH, 'package-lock.json')).mtimeMs
}

// better-sqlite3 and sqlite3 fall back to compiling when no prebuilt binary
// can be downloaded; point node-gyp at this Node's own headers when they are
// installed beside it, so that it need not download them either.
function buildEnv() {
  const env = { ...process.env }
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix
  }
  return env
}

function ensureInstalled() {
  if (!depsCurrent()) {
    console.log('bench: installing the peers (npm ci in bench/; better-sqlite3 and sqlite3 may compile)…')
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: BENCH, stdio: 'inherit', env: buildEnv() })
    if (r.status !== 0) throw new Error(`npm ci in bench/ failed (exit ${r.status})`)
  }
  require('../prisma/generate.js').generate({ quiet: false })
}

module.exports = { ensureInstalled }
