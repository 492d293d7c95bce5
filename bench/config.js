'use strict'
// Sizes, connection strings and goals of one bench run.
const path = require('node:path')

const DATA_DIR = path.join(__dirname, '.data')

const urls = {
  sqliteFile: path.join(DATA_DIR, 'bench.sqlite'),
  postgres: process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test',
}

// Full sizes follow issue 5; --quick keeps the same shape, smaller.
const sizes = {
  full: {
    rounds: 5,
    warmupOps: 2000,
    w1Ops: 10000,
    w2Ops: 50000,
    w2InFlight: 64,
    w3Ops: 2000,
    w4Ops: 1000,
    w5Writers: 8,
    w5RowsPerWriter: 1000,
    w7Baseline: 10000,
    w7Total: 1000000,
    pgbenchSeconds: 5,
  },
  quick: {
    rounds: 2,
    warmupOps: 300,
    w1Ops: 1000,
    w2Ops: 5000,
    w2InFlight: 64,
    w3Ops: 300,
    w4Ops: 200,
    w5Writers: 8,
    w5RowsPerWriter: 100,
    w7Baseline: 10000,
    w7Total: 60000,
    pgbenchSeconds: 2,
  },
}

const POOL_SIZE = 10
const TABLE_ROWS = 10000

// Optional servers for the scale-out contenders (issue 7): PgBouncer in front
// of the same database, and a streaming replica of it. From the environment,
// else the addresses .ci/run uses when something answers there; null if none.
function scaleUrls() {
  const { spawnSync } = require('node:child_process')
  // pg_isready: 0 accepting, 1 rejecting (both: a server answers), 2 no answer.
  const answers = (port) => [0, 1].includes(spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', String(port), '-t', '2']).status)
  let pgbouncer = process.env.BENCH_PGBOUNCER_URL || process.env.TEST_PGBOUNCER_URL || (answers(6432) ? 'postgres://postgres@127.0.0.1:6432/test' : null)
  if (pgbouncer) {
    const u = new URL(pgbouncer)
    u.searchParams.set('pgbouncer', 'true')
    pgbouncer = u.toString()
  }
  const replica = process.env.BENCH_REPLICA_URL || process.env.TEST_REPLICA_URL || (answers(5433) ? 'postgres://postgres@127.0.0.1:5433/test' : null)
  return { pgbouncer, replica }
}

module.exports = { DATA_DIR, urls, sizes, POOL_SIZE, TABLE_ROWS, scaleUrls }
