'use strict'
// sqlite3 (node-sqlite3): asynchronous on libuv's thread pool, one connection,
// cached prepared statements. Reads use all(), which steps the statement to
// its end: get() leaves it open, and with it a read transaction that makes
// this connection's next write fail with SQLITE_BUSY once another connection
// has written.
const { urls } = require('../config.js')
const { READ_TABLE, WRITE_TABLE, insertSql, toParams } = require('../lib/data.js')

const call = (stmt, method, params) =>
  new Promise((resolve, reject) => {
    stmt[method](params, function done(err, row) {
      if (err) reject(err)
      else resolve(method === 'run' ? this : method === 'all' ? row[0] : row)
    })
  })

module.exports = () => {
  let db, point, one, ins
  return {
    name: 'sqlite3',
    backend: 'sqlite',
    async setup() {
      const sqlite3 = require('sqlite3')
      db = await new Promise((resolve, reject) => {
        const d = new sqlite3.Database(urls.sqliteFile, (err) => (err ? reject(err) : resolve(d)))
      })
      const exec = (sql) => new Promise((res, rej) => db.exec(sql, (e) => (e ? rej(e) : res())))
      await exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON')
      point = db.prepare(`SELECT * FROM "${READ_TABLE}" WHERE "id" = ?`)
      one = db.prepare('SELECT 1')
      ins = db.prepare(insertSql('sqlite', WRITE_TABLE))
    },
    pointSelect: (id) => call(point, 'all', [id]),
    select1: () => call(one, 'all', []),
    insert: (row) => call(ins, 'run', toParams(row, { dates: 'ms', booleans: 'int' })),
    async close() {
      for (const s of [point, one, ins]) await new Promise((res) => s.finalize(res))
      await new Promise((res, rej) => db.close((e) => (e ? rej(e) : res())))
    },
  }
}
