'use strict'
// shopify-db-pool, the package under test, on any of the three backends.
const { urls, POOL_SIZE } = require('../config.js')
const { loadOurs } = require('../lib/addon.js')
const { READ_TABLE, WRITE_TABLE, insertSql, toParams } = require('../lib/data.js')

const URLS = {
  sqlite: () => `file:${urls.sqliteFile}`,
  postgres: () => urls.postgres,
  mysql: () => urls.mysql,
}

// On PostgreSQL `ours` pipelines (`pipelining: true`); `leased` is the
// same package with each statement on a connection of its own, the
// default, shown beside it as a peer.
module.exports = (backend, { leased = false } = {}) => {
  const pipelining = backend === 'postgres' && !leased
  const q = backend === 'mysql' ? '`' : '"'
  const selectSql = `SELECT * FROM ${q}${READ_TABLE}${q} WHERE ${q}id${q} = ?`
  const insert = insertSql(backend, WRITE_TABLE)
  let pool
  return {
    name: leased ? 'shopify-db-pool (leased)' : 'shopify-db-pool',
    backend,
    ours: !leased,
    async setup() {
      const { Pool } = loadOurs().mod
      pool = new Pool({ url: URLS[backend](), maxConnections: POOL_SIZE, pipelining })
      await pool.connect()
    },
    pointSelect: (id) => pool.queryOne(selectSql, [id]),
    select1: () => pool.queryOne('SELECT 1'),
    // The embedded SQLite's version (sqlx bundles its own).
    engineVersion: async () =>
      backend === 'sqlite' ? `SQLite ${(await pool.queryOne('SELECT sqlite_version() AS v')).v}` : null,
    health: () => pool.checkHealth(),
    concurrent3: () => pool.testConcurrentQueries(3),
    insert: (row) => pool.execute(insert, toParams(row)),
    async close() {
      await pool.close()
    },
  }
}
