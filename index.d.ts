/// <reference types="node" />
/* Types of the JavaScript layer (lib/) and of values; the native classes follow. */

// PoolSessionStorage's types come from its (optional) peer dependencies.
import type { Session } from '@shopify/shopify-api'
import type { SessionStorage } from '@shopify/shopify-app-session-storage'

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
 * The process-wide pool, kept on `globalThis` (under
 * `Symbol.for('shopify-db-pool.pool')`) so that a dev server's module reload
 * or a cleared require cache gets the same pool instead of opening another.
 * Created on first call from `options` (default: `resolveConfig()`); later
 * calls ignore `options`. Once that pool is closed, the next call creates a
 * new one.
 */
export declare function getPool(options?: PoolOptions): Pool

export interface ShutdownHooksOptions {
  /** Default `['SIGTERM', 'SIGINT']`. */
  signals?: NodeJS.Signals[]
  /**
   * Bound on the whole shutdown (drain, close) in ms; past it the process
   * exits with code 1. Default 10000.
   */
  timeoutMs?: number
  /** Exit (code 0) once the pool is closed. Default true. */
  exit?: boolean
}

/**
 * On each signal: close `pool` (it stops taking work at once and lets
 * in-flight queries finish), let stdout/stderr drain, then exit 0.
 * Idempotent: installing again (also
 * from a reloaded module) adds no listener. Returns a function that removes
 * the hooks for this pool.
 */
export declare function installShutdownHooks(pool: Pool, options?: ShutdownHooksOptions): () => void

/** What Remix v2 and React Router v7 pass to a loader or action. */
export interface RouteArgs {
  request: Request
  params?: unknown
  context?: unknown
}

/** A route loader or action: `export const loader = databaseHealthLoader(db)`. */
export type RouteHandler = (args: RouteArgs) => Promise<Response>

export interface DatabaseHealthLoaderOptions {
  /** Passed to `checkHealth()`. */
  timeoutMs?: number
}

export interface TokenOptions {
  /**
   * Bearer token required in `Authorization: Bearer <token>` (compared in
   * constant time). Default: `process.env.HEALTH_TOKEN`, read per request;
   * no token set means no check.
   */
  token?: string
}

export interface DetailedHealthLoaderOptions extends TokenOptions {
  /** Passed to `detailedHealth()`. */
  timeoutMs?: number
  /** Passed to `detailedHealth()`. */
  concurrentQueries?: number
}

export interface MetricsLoaderOptions extends TokenOptions {}

export interface MaintenanceActionOptions extends TokenOptions {
  /** The session table to clean (default `Session`). */
  table?: string
}

/** `maintenanceAction`'s JSON body. */
export interface MaintenanceResult {
  /** Expired sessions deleted. */
  deleted: number
  /** Idle connections closed. */
  reaped: number
  status: PoolStatus
}

/** `/health/database`: `checkHealth()` as JSON, 200 (healthy, degraded) or 503 (unhealthy). */
export declare function databaseHealthLoader(pool: Pool, options?: DatabaseHealthLoaderOptions): RouteHandler

/** `/health/detailed`: `detailedHealth()` as JSON, 200 or 503; 401 without the token. */
export declare function detailedHealthLoader(pool: Pool, options?: DetailedHealthLoaderOptions): RouteHandler

/** `/metrics`: Prometheus text (`text/plain; version=0.0.4`); 401 without the token. */
export declare function metricsLoader(pool: Pool, options?: MetricsLoaderOptions): RouteHandler

/**
 * POST: deletes expired sessions and closes idle connections, then answers
 * `MaintenanceResult` as JSON; 405 (`Allow: POST`) for other methods, 401
 * without the token.
 */
export declare function maintenanceAction(pool: Pool, options?: MaintenanceActionOptions): RouteHandler

export interface PoolSessionStorageOptions {
  /** The table (default `Session`, the Shopify template's model); `schema.Table` allowed. */
  tableName?: string
  /** Checks of the table after the first one before giving up (default 2). */
  connectionRetries?: number
  /** Wait between those checks in ms (default 5000). */
  connectionRetryIntervalMs?: number
  /**
   * SQLite DateTime encoding: `auto` (default: what the table already holds,
   * else Unix ms as Prisma's native engine), `unixepoch-ms`, or `iso8601`
   * (Prisma's driver adapters' default).
   */
  sqliteTimestampFormat?: 'auto' | 'unixepoch-ms' | 'iso8601'
}

/**
 * A Shopify `SessionStorage` on the Shopify app template's Prisma `Session`
 * table, reading and writing rows as `PrismaSessionStorage` does: an app can
 * switch between the two with no migration.
 */
export declare class PoolSessionStorage implements SessionStorage {
  constructor(pool: Pool, options?: PoolSessionStorageOptions)
  readonly pool: Pool
  readonly tableName: string
  readonly connectionRetries: number
  readonly connectionRetryIntervalMs: number
  readonly sqliteTimestampFormat: 'auto' | 'unixepoch-ms' | 'iso8601'
  /** Inserts or replaces the session; resolves true. */
  storeSession(session: Session): Promise<boolean>
  /** The session, or undefined when there is none with this id. */
  loadSession(id: string): Promise<Session | undefined>
  /** Resolves true, also when there was no such session. */
  deleteSession(id: string): Promise<boolean>
  deleteSessions(ids: string[]): Promise<boolean>
  /** At most 25 sessions of the shop, latest `expires` first. */
  findSessionsByShop(shop: string): Promise<Session[]>
  /**
   * Waits for the table (`connectionRetries` more checks,
   * `connectionRetryIntervalMs` apart); resolves true, or rejects with a
   * `MissingSessionTableError` (or the last connection error).
   */
  isReady(): Promise<boolean>
}

/** The session table does not exist, or lacks required columns. */
export declare class MissingSessionTableError extends Error {
  constructor(message: string, options?: { cause?: unknown; missingColumns?: string[] })
  readonly code: 'SESSION_TABLE_MISSING'
  /** The required columns the table lacks, when it exists. */
  readonly missingColumns?: string[]
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
  /**
   * This pool reading from the primary only, to read your own writes
   * when `readReplicaUrls` is set. Shares connections and state.
   */
  get primary(): Pool
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
  /** Each read replica's health, when `readReplicaUrls` is set. */
  replicas?: Array<ReplicaHealth>
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
  /**
   * SQLite only: statements run through SQLite's C API directly (on the
   * JS thread, or right after a wait for a connection) rather than on
   * sqlx's worker thread; within `queriesTotal`.
   */
  queriesInline: number
  /**
   * SQLite only: statements that ran past the inline time limit there,
   * were rolled back and ran again on the worker thread.
   */
  inlineOverruns: number
  errorsTotal: number
  errorsByCode: Partial<Record<ErrorCode, number>>
  acquireTimeouts: number
  leaksDetected: number
  /** Callers waiting for a connection right now. */
  waiting: number
  /** Each read replica's own metrics, when `readReplicaUrls` is set. */
  replicas?: Array<ReplicaMetrics>
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
  /**
   * Running behind PgBouncer in transaction mode (as Prisma's `pgbouncer=true`):
   * no named prepared statements are left on server connections.
   */
  pgbouncer?: boolean
  /**
   * Read replicas (PostgreSQL/MySQL): `query`/`queryOne` outside a
   * transaction go to a healthy one in turn; use `pool.primary` to read
   * your own writes. Default from `DATABASE_REPLICA_URLS` (comma-separated).
   */
  readReplicaUrls?: Array<string>
  /**
   * PostgreSQL: reads outside transactions share two connections,
   * several in flight on each, as postgres.js sends them; about twice the
   * throughput under concurrency, but a slow read delays those queued
   * behind it. Needs `maxConnections` ≥ 3 (two are taken for this)
   * and a plain connection (a server on this host, or `sslmode=disable`).
   * Default false.
   */
  pipelining?: boolean
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
  /** Each read replica, when `readReplicaUrls` is set. */
  replicas?: Array<ReplicaStatus>
}

export interface ProcessInfo {
  rss_bytes: number
  heap_used_bytes: number
  uptime_s: number
}

/** One read replica in `detailedHealth().replicas`. */
export interface ReplicaHealth {
  url: string
  /** Whether reads are routed to it right now. */
  routed: boolean
  health: DatabaseHealth
}

/** One read replica in `metrics().replicas`. */
export interface ReplicaMetrics {
  url: string
  healthy: boolean
  metrics: PoolMetrics
}

/** One read replica in `status().replicas`. */
export interface ReplicaStatus {
  /** The replica's URL, password masked. */
  url: string
  /** False while reads skip it (it failed; a probe brings it back). */
  healthy: boolean
  size: number
  idle: number
  inUse: number
  waiting: number
}

/**
 * Builds pool options from the environment (`process.env` by default):
 * `DATABASE_URL` (else `file:./dev.sqlite`), `DB_POOL_MAX`, `DB_POOL_TIMEOUT_MS`,
 * `NODE_ENV`, and the URL's Prisma parameters.
 */
export declare function resolveConfig(env?: Record<string, string | undefined>): PoolOptions
