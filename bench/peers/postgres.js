'use strict'
// postgres.js: its own pool of 10, prepared statements (its default).
const { urls, POOL_SIZE } = require('../config.js')
const { READ_TABLE, WRITE_TABLE, COLUMNS } = require('../lib/data.js')

module.exports = () => {
  let sql
  return {
    name: 'postgres.js',
    backend: 'postgres',
    async setup() {
      const postgres = require('postgres')
      sql = postgres(urls.postgres, { max: POOL_SIZE, onnotice: () => {} })
      await sql`SELECT 1`
    },
    pointSelect: async (id) => (await sql`SELECT * FROM ${sql(READ_TABLE)} WHERE "id" = ${id}`)[0],
    select1: async () => (await sql`SELECT 1`)[0],
    insert: (row) => sql`INSERT INTO ${sql(WRITE_TABLE)} ${sql(row, COLUMNS)}`,
    async close() {
      await sql.end({ timeout: 5 })
    },
  }
}
