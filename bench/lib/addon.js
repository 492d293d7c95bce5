'use strict'
// Loads shopify-db-pool from the repository root. The addon is rebuilt in
// place now and then, so it is loaded from a private copy (a rebuild during
// a run cannot change the code under a running bench) and a load error is
// retried for a while (a rebuild may be half-written).
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const { DATA_DIR } = require('../config.js')

const ROOT = path.resolve(__dirname, '..', '..')
const ADDON = path.join(ROOT, 'shopify-db-pool.linux-x64-gnu.node')

let loaded = null

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function loadOurs({ attempts = 30, delayMs = 2000 } = {}) {
  if (loaded) return loaded
  let lastError
  for (let i = 0; i < attempts; i++) {
    try {
      // A child process of the bench (W7) loads the very copy its parent did.
      let copy = process.env.SDP_BENCH_ADDON
      let builtAt = process.env.SDP_BENCH_ADDON_BUILT
      if (!copy || !fs.existsSync(copy)) {
        const bytes = fs.readFileSync(ADDON)
        builtAt = fs.statSync(ADDON).mtime.toISOString()
        const sha = crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 12)
        copy = path.join(DATA_DIR, `addon-${sha}.node`)
        fs.mkdirSync(DATA_DIR, { recursive: true })
        if (!fs.existsSync(copy)) fs.writeFileSync(copy, bytes)
        for (const f of fs.readdirSync(DATA_DIR)) {
          if (/^addon-.*\.node$/.test(f) && path.join(DATA_DIR, f) !== copy) fs.rmSync(path.join(DATA_DIR, f), { force: true })
        }
      }
      process.env.NAPI_RS_NATIVE_LIBRARY_PATH = copy
      const mod = require(path.join(ROOT, 'lib', 'index.js'))
      process.env.SDP_BENCH_ADDON = copy
      process.env.SDP_BENCH_ADDON_BUILT = builtAt
      loaded = { mod, sha: /addon-(\w+)\.node$/.exec(copy)[1], builtAt }
      return loaded
    } catch (err) {
      lastError = err
      for (const key of Object.keys(require.cache)) {
        if (key.startsWith(path.join(ROOT, 'lib') + path.sep) || key === path.join(ROOT, 'index.js')) delete require.cache[key]
      }
      console.error(`shopify-db-pool failed to load (${err.message.split('\n')[0]}); retrying in ${delayMs} ms`)
      sleep(delayMs)
    }
  }
  throw lastError
}

module.exports = { loadOurs, ROOT }
