'use strict'
// mysql2: promise pool of 10, execute() (server-side prepared, cached).
const { urls, POOL_SIZE } = require('../config.js')
const { READ_TABLE, WRITE_TABLE, insertSql, toParams } = require('../lib/data.js')

module.exports = () => {
  let pool
  const selectSql = `SELECT * FROM \`${READ_TABLE}\` WHERE \`id\` = ?`
  const insert = insertSql('mysql', WRITE_TABLE)
  return {
    name: 'mysql2',
    backend: 'mysql',
    async setup() {
      const mysql = require('mysql2/promise')
      pool = mysql.createPool({ uri: urls.mysql, connectionLimit: POOL_SIZE, timezone: 'Z' })
      await pool.query('SELECT 1')
    },
    pointSelect: async (id) => (await pool.execute(selectSql, [id]))[0][0],
    select1: async () => (await pool.query('SELECT 1'))[0][0],
    insert: (row) => pool.execute(insert, toParams(row)),
    async close() {
      await pool.end()
    },
  }
}
