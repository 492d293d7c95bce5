'use strict'
// PoolSessionStorage: @shopify/shopify-app-session-storage's SessionStorage
// on the Shopify app template's Prisma `Session` table, reading and writing
// rows the way PrismaSessionStorage (through Prisma) does, so an app can
// switch between the two with no migration:
//
// - columns: id, shop, state, isOnline, scope, expires, accessToken, userId,
//   firstName, lastName, email, accountOwner, locale, collaborator,
//   emailVerified, and (template since late 2025) refreshToken,
//   refreshTokenExpires; the optional ones are detected, not assumed.
// - SQLite: DateTime as INTEGER Unix ms (Prisma's native engine, and the
//   pool's encoding of a Date) or ISO 8601 text (Prisma's driver adapters'
//   default); a table that already holds text keeps getting text. Booleans
//   0/1. PostgreSQL timestamp(3)/bigint/boolean, MySQL
//   datetime(3)/bigint/tinyint(1): the pool's own encodings.
// - the same values as PrismaSessionStorage.sessionToRow: accessToken ''
//   when absent, the user flags false when absent, null otherwise.

const REQUIRED = ['id', 'shop', 'state', 'isOnline', 'scope', 'expires', 'accessToken']
const USER = ['userId', 'firstName', 'lastName', 'email', 'accountOwner', 'locale', 'collaborator', 'emailVerified']
const REFRESH = ['refreshToken', 'refreshTokenExpires']
const ALL = [...REQUIRED, ...USER, ...REFRESH]
const DATE_COLUMNS = ['expires', 'refreshTokenExpires']
const FIND_LIMIT = 25
const DELETE_CHUNK = 500
const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/
const SQLITE_FORMATS = new Set(['auto', 'unixepoch-ms', 'iso8601'])

function invalid(message) {
  const err = new TypeError(message)
  err.code = 'INVALID_ARGUMENT'
  return err
}

/** The session table is missing (or lacks required columns) after every retry. */
class MissingSessionTableError extends Error {
  constructor(message, { cause, missingColumns } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'MissingSessionTableError'
    this.code = 'SESSION_TABLE_MISSING'
    if (missingColumns) this.missingColumns = missingColumns
  }
}

let SessionClass = null
function Session() {
  if (!SessionClass) {
    try {
      SessionClass = require('@shopify/shopify-api').Session
    } catch (cause) {
      const err = new Error(
        'PoolSessionStorage needs @shopify/shopify-api (a peer dependency): npm install @shopify/shopify-api',
        { cause },
      )
      err.code = 'INVALID_ARGUMENT'
      throw err
    }
  }
  return SessionClass
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function isDate(value) {
  return Object.prototype.toString.call(value) === '[object Date]'
}

/** A DATETIME cell (Date, Unix ms, ISO text) as a Date, or null. */
function toDate(value) {
  if (value === null || value === undefined) return null
  if (isDate(value)) return Number.isNaN(value.getTime()) ? null : value
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value))
  if (typeof value === 'string') {
    const d = /^-?\d+$/.test(value) ? new Date(Number(value)) : new Date(value)
    return Number.isNaN(d.getTime()) ? null : d
  }
  return null
}

/** A BOOLEAN cell (boolean, 0/1, '0'/'1'/'true') as a boolean, or null. */
function toBool(value) {
  if (value === null || value === undefined) return null
  if (typeof value === 'boolean') return value
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value) !== 0
  if (typeof value === 'string') return value === '1' || value.toLowerCase() === 'true'
  if (Buffer.isBuffer(value)) return value.length > 0 && value[0] !== 0 && value[0] !== 0x30
  return Boolean(value)
}

function toText(value) {
  if (value === null || value === undefined) return null
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value)
}

/** A Date parameter from whatever the session holds (Date, ms, ISO text). */
function dateParam(value) {
  if (value === null || value === undefined || value === '' || value === 0) return null
  const d = isDate(value) ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value)
  if (Number.isNaN(d.getTime())) throw invalid(`invalid session date: ${String(value)}`)
  return d
}

/** A BIGINT parameter for the user id (number, bigint or digits). */
function userIdParam(value) {
  if (value === null || value === undefined || value === '' || value === 0) return null
  if (typeof value === 'bigint') return value
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    const n = Number(value)
    return Number.isSafeInteger(n) ? n : BigInt(value)
  }
  throw invalid(`invalid session user id: ${String(value)}`)
}

class PoolSessionStorage {
  /**
   * @param pool the Pool (for example getPool())
   * @param options.tableName the table (default `Session`; `schema.Table` allowed)
   * @param options.connectionRetries checks after the first one before giving up (default 2)
   * @param options.connectionRetryIntervalMs wait between checks (default 5000)
   * @param options.sqliteTimestampFormat SQLite DateTime encoding: `auto` (default: what
   *   the table already holds, else Unix ms), `unixepoch-ms`, `iso8601`
   */
  constructor(pool, options = {}) {
    if (!pool || typeof pool.query !== 'function' || typeof pool.execute !== 'function') {
      throw invalid('new PoolSessionStorage(pool) takes the Pool (for example getPool())')
    }
    if (options === null || typeof options !== 'object') throw invalid('PoolSessionStorage options must be an object')
    const {
      tableName = 'Session',
      connectionRetries = 2,
      connectionRetryIntervalMs = 5000,
      sqliteTimestampFormat = 'auto',
    } = options
    if (typeof tableName !== 'string' || !tableName.split('.').every((p) => IDENT.test(p)) || tableName.split('.').length > 2) {
      throw invalid(`PoolSessionStorage tableName must be an identifier (or schema.table), got ${JSON.stringify(tableName)}`)
    }
    if (!Number.isInteger(connectionRetries) || connectionRetries < 0) {
      throw invalid('PoolSessionStorage connectionRetries must be a whole number >= 0')
    }
    if (typeof connectionRetryIntervalMs !== 'number' || !Number.isFinite(connectionRetryIntervalMs) || connectionRetryIntervalMs < 0) {
      throw invalid('PoolSessionStorage connectionRetryIntervalMs must be a number of milliseconds >= 0')
    }
    if (!SQLITE_FORMATS.has(sqliteTimestampFormat)) {
      throw invalid('PoolSessionStorage sqliteTimestampFormat must be "auto", "unixepoch-ms" or "iso8601"')
    }
    Session() // fail here, not at the first request, when the peer dependency is missing

    // Sessions must read their own writes: with read replicas, use the
    // primary (a replica may not have the row that was just stored).
    this.pool = pool && pool.primary ? pool.primary : pool
    this.tableName = tableName
    this.connectionRetries = connectionRetries
    this.connectionRetryIntervalMs = connectionRetryIntervalMs
    this.sqliteTimestampFormat = sqliteTimestampFormat
    const parts = tableName.split('.')
    this._schema = parts.length === 2 ? parts[0] : null
    this._table = parts[parts.length - 1]
    this._columns = null // the table's columns we know, once checked
    this._actual = new Map() // column -> its spelling in the table
    this._checking = null // the check in progress
    this._dateFormat = sqliteTimestampFormat === 'auto' ? null : sqliteTimestampFormat
    this._warned = false
  }

  // ---- SessionStorage -------------------------------------------------

  /** Inserts or replaces the session (upsert on id); resolves true. */
  async storeSession(session) {
    const columns = await this._ready()
    const row = this._sessionToRow(session, columns)
    if (this._backend() === 'sqlite') await this._encodeSqliteDates(row)
    const names = Object.keys(row)
    const cols = names.map((n) => this._q(n)).join(', ')
    const marks = names.map(() => '?').join(', ')
    const updates = names.filter((n) => n !== 'id')
    let sql = `INSERT INTO ${this._qTable()} (${cols}) VALUES (${marks}) `
    if (this._backend() === 'mysql') {
      sql += `ON DUPLICATE KEY UPDATE ${updates.map((n) => `${this._q(n)} = VALUES(${this._q(n)})`).join(', ')}`
    } else {
      sql += `ON CONFLICT (${this._q('id')}) DO UPDATE SET ${updates.map((n) => `${this._q(n)} = excluded.${this._q(n)}`).join(', ')}`
    }
    await this.pool.execute(sql, names.map((n) => row[n]))
    return true
  }

  /** The session with this id, or undefined. */
  async loadSession(id) {
    const columns = await this._ready()
    const row = await this.pool.queryOne(`SELECT ${this._select(columns)} FROM ${this._qTable()} WHERE ${this._q('id')} = ?`, [
      String(id),
    ])
    return row ? this._rowToSession(row) : undefined
  }

  /** Deletes the session; resolves true whether or not it existed. */
  async deleteSession(id) {
    await this._ready()
    await this.pool.execute(`DELETE FROM ${this._qTable()} WHERE ${this._q('id')} = ?`, [String(id)])
    return true
  }

  /** Deletes every listed session (in one transaction); resolves true. */
  async deleteSessions(ids) {
    if (!Array.isArray(ids)) throw invalid('deleteSessions(ids) takes an array of session ids')
    await this._ready()
    const unique = [...new Set(ids.map(String))]
    if (unique.length === 0) return true
    const statements = []
    for (let i = 0; i < unique.length; i += DELETE_CHUNK) {
      const chunk = unique.slice(i, i + DELETE_CHUNK)
      statements.push({
        sql: `DELETE FROM ${this._qTable()} WHERE ${this._q('id')} IN (${chunk.map(() => '?').join(', ')})`,
        params: chunk,
      })
    }
    if (statements.length === 1) await this.pool.execute(statements[0].sql, statements[0].params)
    else await this.pool.batch(statements)
    return true
  }

  /** At most 25 sessions of the shop, latest `expires` first (as PrismaSessionStorage). */
  async findSessionsByShop(shop) {
    const columns = await this._ready()
    // Prisma's `orderBy: { expires: 'desc' }`. On SQLite both date
    // encodings are brought to Unix ms first, so a table holding both
    // still sorts by time.
    const expires = this._q('expires')
    const order =
      this._backend() === 'sqlite'
        ? `CASE WHEN typeof(${expires}) = 'text' THEN CAST(round((julianday(${expires}) - 2440587.5) * 86400000) AS INTEGER) ELSE ${expires} END`
        : expires
    const rows = await this.pool.query(
      `SELECT ${this._select(columns)} FROM ${this._qTable()} WHERE ${this._q('shop')} = ? ORDER BY ${order} DESC LIMIT ${FIND_LIMIT}`,
      [String(shop)],
    )
    return rows.map((row) => this._rowToSession(row))
  }

  /**
   * Waits for the session table: checks it, and while it is missing (or the
   * database unreachable) checks again `connectionRetries` times,
   * `connectionRetryIntervalMs` apart. Resolves true, or rejects with a
   * MissingSessionTableError (code SESSION_TABLE_MISSING) naming the table,
   * or with the last connection error.
   */
  async isReady() {
    await this._check()
    return true
  }

  // ---- readiness ------------------------------------------------------

  _ready() {
    if (this._columns) return Promise.resolve(this._columns)
    return this._check()
  }

  _check() {
    if (!this._checking) {
      this._checking = this._poll().finally(() => {
        this._checking = null
      })
    }
    return this._checking
  }

  async _poll() {
    const attempts = this.connectionRetries + 1
    let lastError = null
    let missing = null
    let made = 0
    const started = Date.now()
    for (let attempt = 1; attempt <= attempts; attempt++) {
      made = attempt
      try {
        const { exists, columns } = await this._readColumns()
        if (exists) {
          missing = REQUIRED.filter((c) => !columns.has(c))
          if (missing.length === 0) {
            this._adopt(columns)
            return this._columns
          }
        } else {
          missing = null
        }
        lastError = null
      } catch (err) {
        lastError = err
        // A closed pool will not open again: no point waiting.
        if (err && err.code === 'POOL_CLOSED') break
      }
      if (attempt < attempts) await sleep(this.connectionRetryIntervalMs)
    }
    const waited = `${made} check${made === 1 ? '' : 's'} over ${
      made === attempts ? this.connectionRetries * this.connectionRetryIntervalMs : Date.now() - started
    } ms`
    if (lastError) {
      const err = new Error(
        `PoolSessionStorage could not check the session table ${JSON.stringify(this.tableName)} (${waited}): ${lastError.message}`,
        { cause: lastError },
      )
      err.code = typeof lastError.code === 'string' ? lastError.code : 'CONNECTION_FAILED'
      throw err
    }
    if (missing && missing.length > 0) {
      throw new MissingSessionTableError(
        `the session table ${JSON.stringify(this.tableName)} lacks the column(s) ${missing.join(', ')} (${waited}); ` +
          'it must have the columns of the Shopify app template\'s Prisma Session model',
        { missingColumns: missing },
      )
    }
    throw new MissingSessionTableError(
      `the session table ${JSON.stringify(this.tableName)} does not exist in the ${this._backend()} database (${waited}). ` +
        'Create it with the Shopify app template\'s Prisma migration (npx prisma migrate deploy), or pass the right tableName.',
    )
  }

  async _readColumns() {
    const backend = this._backend()
    let rows
    if (backend === 'sqlite') {
      rows = this._schema
        ? await this.pool.query('SELECT name FROM pragma_table_info(?, ?)', [this._table, this._schema])
        : await this.pool.query('SELECT name FROM pragma_table_info(?)', [this._table])
    } else if (backend === 'postgres') {
      rows = await this.pool.query(
        `SELECT column_name AS name FROM information_schema.columns WHERE table_name = ? AND table_schema = ${
          this._schema ? '?' : 'current_schema()'
        }`,
        this._schema ? [this._table, this._schema] : [this._table],
      )
    } else {
      rows = await this.pool.query(
        `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_NAME = ? AND TABLE_SCHEMA = ${
          this._schema ? '?' : 'DATABASE()'
        }`,
        this._schema ? [this._table, this._schema] : [this._table],
      )
    }
    // Column name -> its spelling in the table (SQLite and MySQL compare
    // column names without case; a PostgreSQL table created unquoted has
    // them in lower case).
    const found = new Map()
    for (const row of rows) {
      const name = toText(row.name)
      if (name) found.set(name.toLowerCase(), name)
    }
    const columns = new Map()
    for (const c of ALL) if (found.has(c.toLowerCase())) columns.set(c, found.get(c.toLowerCase()))
    return { exists: found.size > 0, columns }
  }

  _adopt(found) {
    this._actual = found
    this._columns = ALL.filter((c) => found.has(c))
    const absent = [...USER, ...REFRESH].filter((c) => !found.has(c))
    if (absent.length > 0 && !this._warned) {
      this._warned = true
      process.emitWarning(
        `the session table ${JSON.stringify(this.tableName)} has no ${absent.join(', ')} column(s): ` +
          'those session fields are not stored. Apply the Shopify app template\'s latest Prisma migration to keep them.',
        { code: 'DB_POOL_SESSION_COLUMNS' },
      )
    }
  }

  // ---- mapping ------------------------------------------------------------

  /** PrismaSessionStorage.sessionToRow, limited to the table's columns. */
  _sessionToRow(session, columns) {
    if (!session || typeof session.toObject !== 'function' || typeof session.id !== 'string') {
      throw invalid('storeSession(session) takes a Session of @shopify/shopify-api')
    }
    const data = session.toObject()
    const user = (data.onlineAccessInfo && data.onlineAccessInfo.associated_user) || undefined
    const full = {
      id: session.id,
      shop: session.shop,
      state: session.state,
      isOnline: Boolean(session.isOnline),
      scope: session.scope || null,
      expires: dateParam(session.expires),
      accessToken: session.accessToken || '',
      userId: userIdParam(user && user.id),
      firstName: (user && user.first_name) || null,
      lastName: (user && user.last_name) || null,
      email: (user && user.email) || null,
      accountOwner: Boolean(user && user.account_owner),
      locale: (user && user.locale) || null,
      collaborator: Boolean(user && user.collaborator),
      emailVerified: Boolean(user && user.email_verified),
      refreshToken: data.refreshToken || null,
      refreshTokenExpires: dateParam(data.refreshTokenExpires),
    }
    const row = {}
    for (const c of columns) row[c] = full[c]
    return row
  }

  /**
   * PrismaSessionStorage.rowToSession, except that a NULL user column is
   * left out (Prisma's String(null) makes it the text 'null'), and a row
   * with no user details at all (what Prisma's writer stores for a session
   * without them: flags false) gets no user flags either.
   */
  _rowToSession(row) {
    const params = {
      id: toText(row.id),
      shop: toText(row.shop),
      state: toText(row.state),
      isOnline: toBool(row.isOnline) === true,
    }
    if (row.userId !== null && row.userId !== undefined) params.userId = String(row.userId)
    let details = false
    for (const c of ['firstName', 'lastName', 'email', 'locale']) {
      const v = toText(row[c])
      if (v !== null) {
        params[c] = v
        details = true
      }
    }
    const flags = {}
    for (const c of ['accountOwner', 'collaborator', 'emailVerified']) {
      const v = toBool(row[c])
      if (v !== null) flags[c] = v
    }
    if (details || Object.values(flags).some(Boolean)) Object.assign(params, flags)
    const expires = toDate(row.expires)
    if (expires) params.expires = expires.getTime()
    const scope = toText(row.scope)
    if (scope) params.scope = scope
    const accessToken = toText(row.accessToken)
    if (accessToken) params.accessToken = accessToken
    const refreshToken = toText(row.refreshToken)
    if (refreshToken) params.refreshToken = refreshToken
    const refreshTokenExpires = toDate(row.refreshTokenExpires)
    if (refreshTokenExpires) params.refreshTokenExpires = refreshTokenExpires.getTime()
    return Session().fromPropertyArray(Object.entries(params), true)
  }

  /**
   * SQLite: DateTime columns as the table already holds them. Unix ms
   * needs nothing (the pool binds a Date so); ISO 8601 is written as
   * Prisma's driver adapters write it.
   */
  async _encodeSqliteDates(row) {
    const present = DATE_COLUMNS.filter((c) => row[c] instanceof Date || isDate(row[c]))
    if (present.length === 0) return
    const format = await this._sqliteDateFormat()
    if (format !== 'iso8601') return
    for (const c of present) row[c] = row[c].toISOString().replace('Z', '+00:00')
  }

  async _sqliteDateFormat() {
    if (this._dateFormat) return this._dateFormat
    const dated = DATE_COLUMNS.filter((c) => this._columns.includes(c))
    const probe = dated
      .map((c) => `SELECT typeof(${this._q(c)}) AS t FROM ${this._qTable()} WHERE ${this._q(c)} IS NOT NULL`)
      .join(' UNION ALL ')
    const found = await this.pool.queryOne(`SELECT t FROM (${probe}) LIMIT 1`)
    // An empty table gets Prisma's native engine format; from then on the
    // table holds it, so the answer is settled either way.
    this._dateFormat = found && found.t === 'text' ? 'iso8601' : 'unixepoch-ms'
    return this._dateFormat
  }

  // ---- SQL helpers --------------------------------------------------------

  _backend() {
    return this.pool.backend
  }

  _quote(name) {
    return this._backend() === 'mysql' ? `\`${name}\`` : `"${name}"`
  }

  /** A column, quoted, as the table spells it. */
  _q(column) {
    return this._quote(this._actual.get(column) || column)
  }

  _qTable() {
    return this._schema ? `${this._quote(this._schema)}.${this._quote(this._table)}` : this._quote(this._table)
  }

  _select(columns) {
    return columns
      .map((c) => {
        const actual = this._actual.get(c) || c
        return actual === c ? this._quote(c) : `${this._quote(actual)} AS ${this._quote(c)}`
      })
      .join(', ')
  }
}

module.exports = { PoolSessionStorage, MissingSessionTableError }
