'use strict'
// Per-backend setup and checks, done through a plain driver connection that
// no peer under test uses: creates and fills the tables, empties W5's table,
// counts its rows.
const fs = require('node:fs')
const path = require('node:path')
const { urls, TABLE_ROWS } = require('../config.js')
const { COLUMNS, tableRows, toParams, ddl, READ_TABLE, WRITE_TABLE } = require('./data.js')

async function sqliteAdmin() {
  const Database = require('better-sqlite3')
  fs.mkdirSync(path.dirname(urls.sqliteFile), { recursive: true })
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(urls.sqliteFile + suffix, { force: true })
  const db = new Database(urls.sqliteFile)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  return {
    async setup() {
      db.exec(ddl('sqlite', READ_TABLE))
      db.exec(ddl('sqlite', WRITE_TABLE))
      const cols = COLUMNS.map((c) => `"${c}"`).join(', ')
      const insert = db.prepare(
        `INSERT INTO "${READ_TABLE}" (${cols}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
      )
      // Prisma's SQLite encoding: DateTime as integer ms, Boolean as 0/1.
      db.transaction((rows) => {
        for (const r of rows) insert.run(toParams(r, { dates: 'ms', booleans: 'int' }))
      })(tableRows(TABLE_ROWS))
      db.exec('ANALYZE')
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    async version() {
      return `SQLite ${db.prepare('SELECT sqlite_version() AS v').get().v} (better-sqlite3's)`
    },
    async count(table) {
      return db.prepare(`SELECT count(*) AS n FROM "${table}"`).get().n
    },
    async resetWrites() {
      db.exec(`DELETE FROM "${WRITE_TABLE}"`)
      db.pragma('wal_checkpoint(TRUNCATE)')
    },
    async close() {
      db.close()
    },
  }
}

async function postgresAdmin() {
  const { Client } = require('pg')
  const client = new Client({ connectionString: urls.postgres })
  await client.connect()
  return {
    async setup() {
      await client.query(`DROP TABLE IF EXISTS "${READ_TABLE}", "${WRITE_TABLE}"`)
      await client.query(ddl('postgres', READ_TABLE))
      await client.query(ddl('postgres', WRITE_TABLE))
      const cols = COLUMNS.map((c) => `"${c}"`).join(', ')
      const rows = tableRows(TABLE_ROWS)
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500)
        const values = []
        const tuples = chunk.map((r, j) => {
          values.push(...toParams(r))
          return `(${COLUMNS.map((_, k) => `$${j * COLUMNS.length + k + 1}`).join(', ')})`
        })
        await client.query(`INSERT INTO "${READ_TABLE}" (${cols}) VALUES ${tuples.join(', ')}`, values)
      }
      await client.query(`VACUUM ANALYZE "${READ_TABLE}"`)
    },
    async version() {
      return `PostgreSQL ${(await client.query('SHOW server_version')).rows[0].server_version}`
    },
    async count(table) {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${table}"`)
      return rows[0].n
    },
    async resetWrites() {
      await client.query(`TRUNCATE "${WRITE_TABLE}"`)
    },
    async close() {
      await client.end()
    },
  }
}

async function mysqlAdmin() {
  const mysql = require('mysql2/promise')
  const conn = await mysql.createConnection({ uri: urls.mysql, timezone: 'Z' })
  return {
    async setup() {
      await conn.query(`DROP TABLE IF EXISTS \`${READ_TABLE}\`, \`${WRITE_TABLE}\``)
      await conn.query(ddl('mysql', READ_TABLE))
      await conn.query(ddl('mysql', WRITE_TABLE))
      const cols = COLUMNS.map((c) => `\`${c}\``).join(', ')
      const rows = tableRows(TABLE_ROWS)
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000).map((r) => toParams(r))
        await conn.query(`INSERT INTO \`${READ_TABLE}\` (${cols}) VALUES ?`, [chunk])
      }
      await conn.query(`ANALYZE TABLE \`${READ_TABLE}\``)
    },
    async version() {
      return (await conn.query('SELECT VERSION() AS v'))[0][0].v
    },
    async count(table) {
      const [rows] = await conn.query(`SELECT count(*) AS n FROM \`${table}\``)
      return Number(rows[0].n)
    },
    async resetWrites() {
      await conn.query(`TRUNCATE TABLE \`${WRITE_TABLE}\``)
    },
    async close() {
      await conn.end()
    },
  }
}

const admins = { sqlite: sqliteAdmin, postgres: postgresAdmin, mysql: mysqlAdmin }

module.exports = { openAdmin: (backend) => admins[backend]() }
