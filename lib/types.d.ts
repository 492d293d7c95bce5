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
