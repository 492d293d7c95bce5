'use strict'
// Route modules for Remix v2 and React Router v7: each export is a factory
// that takes the pool (and options) and returns the route function,
// `({ request }) => Promise<Response>`:
//
//   export const loader = databaseHealthLoader(db)
//
// Responses are built with Node's global Response (Node >= 18), so no Remix
// package is needed. Every response carries `Cache-Control: no-store`.

const crypto = require('node:crypto')

const JSON_TYPE = 'application/json'
const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
const REALM = 'shopify-db-pool'

function invalid(message) {
  const err = new TypeError(message)
  err.code = 'INVALID_ARGUMENT'
  return err
}

function checkPool(pool, name) {
  if (!pool || typeof pool.checkHealth !== 'function') {
    throw invalid(`${name}(pool) takes the Pool (for example getPool())`)
  }
}

function checkOptions(options, name) {
  if (options === null || typeof options !== 'object') throw invalid(`${name} options must be an object`)
  if (options.token !== undefined && options.token !== null && typeof options.token !== 'string') {
    throw invalid(`${name} token must be a string`)
  }
  return options
}

function headers(contentType, extra) {
  const h = new Headers(extra)
  h.set('Content-Type', contentType)
  h.set('Cache-Control', 'no-store')
  return h
}

function json(body, status = 200, extra) {
  return new Response(JSON.stringify(body), { status, headers: headers(JSON_TYPE, extra) })
}

function text(body, status = 200, contentType = PROMETHEUS_TYPE) {
  return new Response(body, { status, headers: headers(contentType) })
}

// ---- bearer token ------------------------------------------------------

/** The token in force: the option when given, else HEALTH_TOKEN, read per request. */
function expectedToken(options) {
  if (typeof options.token === 'string' && options.token !== '') return options.token
  const env = process.env.HEALTH_TOKEN
  return typeof env === 'string' && env !== '' ? env : null
}

// A key made once per process: HMAC digests of the presented and expected
// tokens have the same length whatever the inputs, so timingSafeEqual
// compares them without revealing the token's length or a matching prefix.
const HMAC_KEY = crypto.randomBytes(32)

function digest(value) {
  return crypto.createHmac('sha256', HMAC_KEY).update(value, 'utf8').digest()
}

function tokensMatch(presented, expected) {
  return crypto.timingSafeEqual(digest(presented), digest(expected))
}

/** null when the request may proceed, else the 401 response. */
function authorize(request, options) {
  const expected = expectedToken(options)
  if (expected === null) return null
  const header = request && request.headers ? request.headers.get('authorization') : null
  const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null
  if (!match) {
    return json({ error: 'unauthorized', message: 'an Authorization: Bearer <token> header is required' }, 401, {
      'WWW-Authenticate': `Bearer realm="${REALM}"`,
    })
  }
  if (!tokensMatch(match[1], expected)) {
    return json({ error: 'unauthorized', message: 'the bearer token is not valid' }, 401, {
      'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token"`,
    })
  }
  return null
}

// ---- errors --------------------------------------------------------------

const UNAVAILABLE = new Set(['POOL_CLOSED', 'POOL_TIMEOUT', 'CONNECTION_FAILED', 'TIMEOUT'])

/** An error as a JSON response: 503 when the database is unreachable, else 500. */
function errorResponse(err) {
  const code = err && typeof err.code === 'string' ? err.code : 'INTERNAL'
  const message = err && typeof err.message === 'string' ? err.message : String(err)
  return json({ error: message, code }, UNAVAILABLE.has(code) ? 503 : 500)
}

function healthOptions(options) {
  const out = {}
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs
  if (options.concurrentQueries !== undefined) out.concurrentQueries = options.concurrentQueries
  return out
}

// ---- factories ---------------------------------------------------------

/**
 * `/health/database`: `pool.checkHealth()` as JSON; 200 when healthy or
 * degraded, 503 when unhealthy. Public (no token): load balancers call it.
 */
function databaseHealthLoader(pool, options = {}) {
  checkPool(pool, 'databaseHealthLoader')
  checkOptions(options, 'databaseHealthLoader')
  const opts = { ...healthOptions(options) }
  delete opts.concurrentQueries
  return async function databaseHealth() {
    let health
    try {
      health = await pool.checkHealth(opts)
    } catch (err) {
      return errorResponse(err)
    }
    return json(health, health.status === 'unhealthy' ? 503 : 200)
  }
}

/**
 * `/health/detailed`: `pool.detailedHealth()` as JSON (200, or 503 when
 * unhealthy). Requires `Authorization: Bearer <token>` when a token is set
 * (`options.token`, else HEALTH_TOKEN).
 */
function detailedHealthLoader(pool, options = {}) {
  checkPool(pool, 'detailedHealthLoader')
  checkOptions(options, 'detailedHealthLoader')
  const opts = healthOptions(options)
  return async function detailedHealth({ request } = {}) {
    const denied = authorize(request, options)
    if (denied) return denied
    let report
    try {
      report = await pool.detailedHealth(opts)
    } catch (err) {
      return errorResponse(err)
    }
    return json(report, report.status === 'unhealthy' ? 503 : 200)
  }
}

/**
 * `/metrics`: Prometheus text exposition (version 0.0.4). Requires the
 * bearer token when one is set.
 */
function metricsLoader(pool, options = {}) {
  checkPool(pool, 'metricsLoader')
  checkOptions(options, 'metricsLoader')
  return async function metrics({ request } = {}) {
    const denied = authorize(request, options)
    if (denied) return denied
    let body
    try {
      body = pool.prometheus()
    } catch (err) {
      return errorResponse(err)
    }
    return text(body)
  }
}

/**
 * POST only (405 with `Allow: POST` otherwise): deletes expired sessions
 * from `options.table` (default `Session`), closes idle connections past
 * their idle timeout or lifetime, and reports `{ deleted, reaped, status }`.
 * Requires the bearer token when one is set.
 */
function maintenanceAction(pool, options = {}) {
  checkPool(pool, 'maintenanceAction')
  checkOptions(options, 'maintenanceAction')
  if (options.table !== undefined && typeof options.table !== 'string') {
    throw invalid('maintenanceAction table must be a string')
  }
  const cleanup = options.table === undefined ? {} : { table: options.table }
  return async function maintenance({ request } = {}) {
    const method = request && typeof request.method === 'string' ? request.method.toUpperCase() : 'GET'
    if (method !== 'POST') {
      return json({ error: 'method not allowed', message: 'use POST' }, 405, { Allow: 'POST' })
    }
    const denied = authorize(request, options)
    if (denied) return denied
    let deleted
    try {
      ;({ deleted } = await pool.cleanupExpiredSessions(cleanup))
    } catch (err) {
      return errorResponse(err)
    }
    const reaped = pool.reapIdleConnections()
    return json({ deleted, reaped, status: pool.status() })
  }
}

module.exports = { databaseHealthLoader, detailedHealthLoader, metricsLoader, maintenanceAction }
