'use strict'
// better-sqlite3: synchronous, one connection, prepared statements.
const { urls } = require('../config.js')
const { READ_TABLE, WRITE_TABLE, insertSql, toParams } = require('../lib/data.js')

module.exports = () => {
  let db, point, one, ins
  return {
    name: 'better-sqlite3',
    backend: 'sqlite',
    sync: true,
    async setup() {
      const Database = require('better-sqlite3')
      db = new Database(urls.sqliteFile)
      // The same tuning shopify-db-pool applies to its connections.
      db.pragma('journal_mode = WAL')
      db.pragma('busy_timeout = 5000')
      db.pragma('synchronous = NORMAL')
      db.pragma('foreign_keys = ON')
      point = db.prepare(`SELECT * FROM "${READ_TABLE}" WHERE "id" = ?`)
      one = db.prepare('SELECT 1')
      ins = db.prepare(insertSql('sqlite', WRITE_TABLE))
    },
    pointSelect: (id) => point.get(id),
    select1: () => one.get(),
    insert: (row) => ins.run(toParams(row, { dates: 'ms', booleans: 'int' })),
    async close() {
      db.close()
    },
  }
}
