'use strict'
// node-postgres: pg.Pool of 10, named (prepared) statements.
const { urls, POOL_SIZE } = require('../config.js')
const { READ_TABLE, WRITE_TABLE, insertSql, toParams } = require('../lib/data.js')

module.exports = () => {
  let pool
  const point = { name: 'bench_point', text: `SELECT * FROM "${READ_TABLE}" WHERE "id" = $1`, values: null }
  const insertText = insertSql('postgres', WRITE_TABLE, { dollar: true })
  return {
    name: 'pg',
    backend: 'postgres',
    async setup() {
      const { Pool } = require('pg')
      pool = new Pool({ connectionString: urls.postgres, max: POOL_SIZE })
      await pool.query('SELECT 1')
    },
    pointSelect: async (id) => (await pool.query({ name: point.name, text: point.text, values: [id] })).rows[0],
    select1: async () => (await pool.query('SELECT 1')).rows[0],
    insert: (row) => pool.query({ name: 'bench_insert', text: insertText, values: toParams(row) }),
    async close() {
      await pool.end()
    },
  }
}
