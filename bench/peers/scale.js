'use strict'
// Issue 7's scale-out contenders, W2 only, present when the servers are
// (see config.scaleUrls): shopify-db-pool through PgBouncer in transaction
// mode (`pgbouncer=true`), and shopify-db-pool with its reads spread over the
// primary and a streaming replica (both listed in readReplicaUrls, so reads
// take turns; 5 connections to each, 10 in all as for every other pooled
// contender). Each point-select checks that the row is the one asked for.
const { urls, POOL_SIZE, TABLE_ROWS, scaleUrls } = require('../config.js')
const { loadOurs } = require('../lib/addon.js')
const { READ_TABLE } = require('../lib/data.js')

const selectSql = `SELECT * FROM "${READ_TABLE}" WHERE "id" = ?`

function contender(name, options, { beforeSetup, extras } = {}) {
  let pool
  return {
    name,
    backend: 'postgres',
    workloads: ['W2'],
    async setup() {
      const { Pool } = loadOurs().mod
      if (beforeSetup) await beforeSetup(Pool)
      pool = new Pool(options)
      await pool.connect()
    },
    async pointSelect(id) {
      const row = await pool.queryOne(selectSql, [id])
      if (row && row.id !== id) throw new Error(`wrong row: asked for ${id}, got ${row.id}`)
      return row
    },
    select1: () => pool.queryOne('SELECT 1'),
    w2Extras: extras && (() => extras(pool)),
    async close() {
      await pool.close()
    },
  }
}

/** Waits (up to 60 s) until the replica has replayed the bench's table. */
async function replicaCaughtUp(Pool, url) {
  const replica = new Pool({ url, maxConnections: 1 })
  try {
    const deadline = Date.now() + 60000
    for (;;) {
      const row = await replica.queryOne(`SELECT count(*)::int AS n FROM "${READ_TABLE}"`).catch(() => null)
      if (row && row.n === TABLE_ROWS) return
      if (Date.now() > deadline) throw new Error(`the replica has ${row ? row.n : 'no'} rows of ${READ_TABLE} after 60 s`)
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    await replica.close()
  }
}

module.exports = () => {
  const scale = scaleUrls()
  const list = []
  if (scale.pgbouncer) {
    list.push(contender('shopify-db-pool via PgBouncer', { url: scale.pgbouncer, maxConnections: POOL_SIZE }))
  }
  if (scale.replica) {
    // Reads served by each server since the last call, as shares of the run.
    let last = null
    const served = (pool) => pool.metrics().replicas.map((r) => r.metrics.queriesTotal)
    list.push(
      contender(
        'shopify-db-pool primary+replica',
        { url: urls.postgres, readReplicaUrls: [scale.replica, urls.postgres], maxConnections: POOL_SIZE / 2 },
        {
          beforeSetup: (Pool) => replicaCaughtUp(Pool, scale.replica),
          extras(pool) {
            const now = served(pool)
            const delta = now.map((n, i) => n - (last ? last[i] : 0))
            last = now
            const total = delta[0] + delta[1]
            return { replicaShare: total ? delta[0] / total : 0 }
          },
        },
      ),
    )
  }
  return list
}
