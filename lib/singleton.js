'use strict'
// getPool(): one pool per process. It lives on globalThis under a
// Symbol.for() key, the Shopify template's hot-reload guard for Prisma: a
// dev server that re-evaluates app modules (Remix/Vite HMR, a cleared
// require cache) finds the pool it already opened instead of opening
// another one each reload and running out of connections.

const KEY = Symbol.for('shopify-db-pool.pool')

/**
 * The process-wide pool, created on first call from `options` (default:
 * `resolveConfig()`, i.e. DATABASE_URL and friends). Later calls return the
 * same pool and ignore `options`; once that pool is closed, the next call
 * creates a new one.
 */
function getPool(options) {
  const cached = globalThis[KEY]
  if (cached && !cached.closed) return cached
  // Required here, not at the top: lib/index.js requires this file.
  const { Pool, resolveConfig } = require('./index.js')
  const pool = new Pool(options === undefined ? resolveConfig() : options)
  Object.defineProperty(globalThis, KEY, { value: pool, writable: true, configurable: true, enumerable: false })
  return pool
}

module.exports = { getPool, POOL_KEY: KEY }
