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
