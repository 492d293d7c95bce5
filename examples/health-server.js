'use strict'
// `npm start`: a small HTTP server on the package's default database (the
// embedded SQLite file ./dev.sqlite unless DATABASE_URL says otherwise).
//
//   GET /                 what this server offers
//   GET /health/database  { status, connection_time_ms, database_type }, 503 when unhealthy
//
// PORT (default 3000) picks the port. SIGTERM / SIGINT close the pool and exit.

const http = require('node:http')
const { performance } = require('node:perf_hooks')
const { Pool, resolveConfig } = require('..')

const port = Number(process.env.PORT) || 3000
const db = new Pool(resolveConfig())

async function databaseHealth() {
  const started = performance.now()
  try {
    await db.queryOne('SELECT 1 AS ok')
    return {
      httpStatus: 200,
      body: {
        status: 'healthy',
        connection_time_ms: round(performance.now() - started),
        database_type: db.backend,
      },
    }
  } catch (err) {
    return {
      httpStatus: 503,
      body: {
        status: 'unhealthy',
        connection_time_ms: round(performance.now() - started),
        database_type: db.backend,
        // Messages from the package never carry credentials.
        error: err.code ? `${err.code}: ${err.message}` : String(err && err.message),
      },
    }
  }
}

function round(ms) {
  return Math.round(ms * 1000) / 1000
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url, 'http://localhost')
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    return sendJson(res, 405, { error: 'method not allowed' })
  }
  if (pathname === '/') {
    return sendJson(res, 200, {
      name: 'shopify-db-pool health server',
      database_type: db.backend,
      endpoints: { '/health/database': 'runs SELECT 1 and reports its round trip' },
    })
  }
  if (pathname === '/health/database') {
    const { httpStatus, body } = await databaseHealth()
    return sendJson(res, httpStatus, body)
  }
  sendJson(res, 404, { error: 'not found' })
})

server.listen(port, () => {
  console.log(`health server on http://localhost:${port}/ (database: ${db.backend})`)
})

let stopping = false
async function shutdown(signal) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: closing`)
  server.close()
  server.closeIdleConnections()
  try {
    await db.close({ timeoutMs: 5000 })
  } catch (err) {
    console.error('closing the pool failed:', err.message)
  }
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
