/// <reference types="node" />
/* Types of the JavaScript layer (lib/) and of values; the native classes follow. */

/** A statement parameter. Objects and arrays are sent as JSON. */
export type Param =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Date
  | Buffer
  | Uint8Array
  | { [key: string]: unknown }
  | unknown[]

/** A result row: column name → value (see the README's Values table). */
export type Row = Record<string, unknown>

export interface ExecuteResult {
  rowsAffected: number
  /** SQLite rowid / MySQL AUTO_INCREMENT id; null on PostgreSQL (use RETURNING). */
  lastInsertId: number | bigint | null
}

export interface BatchStatement {
  sql: string
  params?: Param[]
}

/** Health of a check: see the README's status rules. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

/** Codes carried by every rejection's `code` property. */
export type ErrorCode =
  | 'POOL_TIMEOUT'
  | 'POOL_CLOSED'
  | 'CONNECTION_FAILED'
  | 'QUERY_FAILED'
  | 'TIMEOUT'
  | 'TRANSACTION_CLOSED'
  | 'INVALID_ARGUMENT'
  | 'INVALID_URL'
  | 'INTERNAL'

export interface DbError extends Error {
  code: ErrorCode
  /** SQLSTATE (PostgreSQL/MySQL) or SQLite result code, on QUERY_FAILED. */
  sqlState?: string
  /** The violated constraint, where the database names it. */
  constraint?: string
  cause?: unknown
}

/** True when `err` is an error from this package with the given code. */
export declare function isDbError(err: unknown, code?: ErrorCode): err is DbError

export interface Pool {
  /**
   * Runs `fn` in a transaction: commits when its promise resolves, rolls
   * back (and rethrows) when it rejects.
   */
  transaction<R>(fn: (tx: Transaction) => Promise<R>): Promise<R>
}

/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * The database pool. Construct it once per process (see `getPool`); it
 * connects lazily on first use.
 */
export declare class Pool {
  /**
   * Validates the options and builds the pool without any I/O. Throws
   * `INVALID_ARGUMENT` / `INVALID_URL` for bad options.
   */
  constructor(options?: PoolOptions)
  get backend(): 'sqlite' | 'postgres' | 'mysql'
  get closed(): boolean
  /** Opens `minConnections` (at least one) and verifies the database answers. */
  connect(): Promise<void>
  /** Runs a statement and resolves with every row. */
  query<T = Row>(sql: string, params?: Param[]): Promise<T[]>
  /** Runs a statement and resolves with its first row, or `null`. */
  queryOne<T = Row>(sql: string, params?: Param[]): Promise<T | null>
  /** Runs a statement that returns no rows. */
  execute(sql: string, params?: Param[]): Promise<ExecuteResult>
  /** Runs the statements in order in one transaction: all or nothing. */
  batch(statements: BatchStatement[]): Promise<ExecuteResult[]>
  /**
   * Opens a transaction on one connection (writes on SQLite take the
   * lock up front). Finish it with `commit()` or `rollback()`.
   */
  begin(): Promise<Transaction>
  status(): PoolStatus
  /** The resolved options (the URL without its password). */
  get options(): PoolOptions
  /** One round trip on a pooled connection; resolves with its duration in ms. */
  ping(): Promise<number>
  metrics(): PoolMetrics
  /** Prometheus text exposition of the metrics, labelled by backend. */
  prometheus(): string
  /** `/health/database`: never rejects; a down database is `unhealthy`. */
  checkHealth(options?: { timeoutMs?: number }): Promise<DatabaseHealth>
  /**
   * `/health/detailed`: the database check, a concurrency test, metrics
   * and process figures.
   */
  detailedHealth(options?: { timeoutMs?: number; concurrentQueries?: number }): Promise<DetailedHealth>
  /** Runs `count` (default 3) `SELECT 1` at once through the pool. */
  testConcurrentQueries(count?: number): Promise<ConcurrencyReport>
  /**
   * Deletes Shopify sessions whose `expires` is before `now` (default:
   * now) from `table` (default `Session`, validated as an identifier).
   */
  cleanupExpiredSessions(options?: { table?: string; now?: Date }): Promise<{ deleted: number }>
  /**
   * Closes idle connections above `minConnections` that are past
   * `idleTimeoutMs`/`maxLifetimeMs` now; returns how many were closed.
   */
  reapIdleConnections(): number
  /**
   * Stops taking work, lets in-flight queries finish (up to `timeoutMs`,
   * default 10000), then closes every connection. Safe to call twice.
   */
  close(options?: { timeoutMs?: number }): Promise<void>
}

/**
 * An open transaction holding one connection. Use it, then `commit()` or
 * `rollback()`; afterwards every call rejects with `TRANSACTION_CLOSED`.
 * A transaction that is garbage-collected while open is rolled back.
 */
export declare class Transaction {
  /** True once `commit()` or `rollback()` has been called. */
  get finished(): boolean
  query<T = Row>(sql: string, params?: Param[]): Promise<T[]>
  queryOne<T = Row>(sql: string, params?: Param[]): Promise<T | null>
  execute(sql: string, params?: Param[]): Promise<ExecuteResult>
  commit(): Promise<void>
  rollback(): Promise<void>
}

export interface CleanupResult {
  deleted: number
}

/** `testConcurrentQueries()`'s result and `connection_pool` of the detailed report. */
export interface ConcurrencyReport {
  status: HealthStatus
  concurrent_queries: number
  total_time_ms: number
  average_time_ms: number
  all_queries_successful: boolean
}

/** `/health/database`'s body. */
export interface DatabaseHealth {
  status: HealthStatus
  /** Round trip of a ping on a pooled connection. */
  connection_time_ms: number
  database_type: 'sqlite' | 'postgres' | 'mysql'
  pool_info: HealthPoolInfo
  /** Why the check failed (redacted), or null. */
  error: string | null
  /** ISO 8601 time of the check. */
  checked_at: string
}

/** `/health/detailed`'s body. */
export interface DetailedHealth {
  status: HealthStatus
  database: DatabaseHealth
  connection_pool: ConcurrencyReport
  metrics: PoolMetrics
  /** Read on the JS thread when the report is delivered. */
  process: ProcessInfo
  checked_at: string
}

export interface HealthPoolInfo {
  max_connections: number
  size: number
  idle: number
  in_use: number
  waiting: number
}

/** Latency figures in milliseconds. */
export interface LatencySummary {
  count: number
  avg: number
  p50: number
  p95: number
  p99: number
  max: number
}

/** Counters and latency histograms since the pool was created. */
export interface PoolMetrics {
  connectionsCreated: number
  connectionsClosed: number
  /** Closed by upkeep: idle past `idleTimeoutMs` or older than `maxLifetimeMs`. */
  connectionsReaped: number
  /** Time to open a connection. */
  connectTimeMs: LatencySummary
  /** Time callers waited for a connection. */
  acquireWaitMs: LatencySummary
  /** Statement execution time. */
  queryTimeMs: LatencySummary
  queriesTotal: number
  errorsTotal: number
  errorsByCode: Partial<Record<ErrorCode, number>>
  acquireTimeouts: number
  leaksDetected: number
  /** Callers waiting for a connection right now. */
  waiting: number
}

/** Pool options. Every field is optional; defaults are safe for a web app. */
export interface PoolOptions {
  /**
   * Connection string: `file:./dev.sqlite`, `sqlite::memory:`, `postgres://…`, `mysql://…`.
   * Prisma's parameters (`connection_limit`, `pool_timeout`, …) are honoured.
   */
  url?: string
  /** Hard cap on open connections. Default 10 in production, 5 otherwise. */
  maxConnections?: number
  /** Connections kept open and warm. Default 0. */
  minConnections?: number
  /** How long a caller waits for a connection before `POOL_TIMEOUT`. Default 20000. */
  acquireTimeoutMs?: number
  /** How long opening one connection may take. Default 5000. */
  connectTimeoutMs?: number
  /** Idle connections above `minConnections` are closed after this. Default 600000. */
  idleTimeoutMs?: number
  /** Connections are recycled after this. Default 1800000. */
  maxLifetimeMs?: number
  /** A query running longer fails with `TIMEOUT`. Default 0 (off). */
  statementTimeoutMs?: number
  /** Warn when a transaction stays open longer than this. Default 0 (off). */
  leakDetectionMs?: number
  /** Background ping interval; the last result feeds health reports. Default 0 (off). */
  healthCheckIntervalMs?: number
  /** Background delete of expired Shopify sessions. Default 0 (off). */
  sessionCleanupIntervalMs?: number
  /** Prepared statement cache. Default true; false under `pgbouncer=true`. */
  statementCache?: boolean
  /** Shown in `pg_stat_activity`. Default `shopify-db-pool`. */
  applicationName?: string
  /** Running behind PgBouncer in transaction mode (as Prisma's `pgbouncer=true`). */
  pgbouncer?: boolean
}

/** A snapshot of the pool, taken synchronously. */
export interface PoolStatus {
  /** Open connections, idle or in use. */
  size: number
  idle: number
  inUse: number
  /** Callers waiting for a connection right now. */
  waiting: number
  maxConnections: number
  minConnections: number
  closed: boolean
}

export interface ProcessInfo {
  rss_bytes: number
  heap_used_bytes: number
  uptime_s: number
}

/**
 * Builds pool options from the environment (`process.env` by default):
 * `DATABASE_URL` (else `file:./dev.sqlite`), `DB_POOL_MAX`, `DB_POOL_TIMEOUT_MS`,
 * `NODE_ENV`, and the URL's Prisma parameters.
 */
export declare function resolveConfig(env?: Record<string, string | undefined>): PoolOptions
