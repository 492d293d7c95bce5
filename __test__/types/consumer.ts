// A strict TypeScript consumer of the package, type-checked (never run) by
// __test__/types.test.js. It imports the package by its name, which resolves
// through package.json `exports` (the `types` condition) as a user's would,
// and touches every export of index.d.ts.
import {
  Pool,
  Transaction,
  resolveConfig,
  isDbError,
  __napiBindingTarget,
  type Param,
  type Row,
  type ExecuteResult,
  type BatchStatement,
  type ErrorCode,
  type DbError,
  type PoolOptions,
  type PoolStatus,
} from 'shopify-db-pool'

// Compile-time equality: `Assert<Equal<A, B>>` fails to compile unless A and B are the same type.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Assert<T extends true> = T

interface SessionRow {
  id: string
  shop: string
  isOnline: boolean
  expires: Date | null
  userId: bigint | number | null
}

const options: PoolOptions = {
  url: 'file:./dev.sqlite',
  maxConnections: 10,
  minConnections: 1,
  acquireTimeoutMs: 20_000,
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 600_000,
  maxLifetimeMs: 1_800_000,
  statementTimeoutMs: 0,
  leakDetectionMs: 10_000,
  healthCheckIntervalMs: 0,
  sessionCleanupIntervalMs: 0,
  statementCache: true,
  applicationName: 'shopify-db-pool',
  pgbouncer: false,
}

const params: Param[] = [
  null,
  undefined,
  true,
  1,
  1.5,
  9_007_199_254_740_993n,
  'text',
  new Date(),
  Buffer.from('bytes'),
  new Uint8Array([1, 2, 3]),
  { json: { nested: [1, 2] } },
  [1, 'two', null],
]

const statements: BatchStatement[] = [
  { sql: 'INSERT INTO t (a) VALUES (?)', params: [1] },
  { sql: 'DELETE FROM t' },
]

const codes: ErrorCode[] = [
  'POOL_TIMEOUT',
  'POOL_CLOSED',
  'CONNECTION_FAILED',
  'QUERY_FAILED',
  'TIMEOUT',
  'TRANSACTION_CLOSED',
  'INVALID_ARGUMENT',
  'INVALID_URL',
  'INTERNAL',
]

export async function main(): Promise<void> {
  const fromEnv: PoolOptions = resolveConfig()
  const fromObject: PoolOptions = resolveConfig({ DATABASE_URL: 'sqlite::memory:', DB_POOL_MAX: undefined })
  const db = new Pool({ ...fromEnv, ...fromObject, ...options })
  const bare = new Pool()

  const backend: 'sqlite' | 'postgres' | 'mysql' = db.backend
  const closed: boolean = bare.closed
  const target: 'native' | 'wasm32-wasi' | 'wasm32-wasip1' = __napiBindingTarget

  await db.connect()

  // query / queryOne: Row by default, the caller's type when given.
  const rows = await db.query('SELECT * FROM "Session" WHERE shop = ?', ['shop.myshopify.com'])
  type _rows = Assert<Equal<typeof rows, Row[]>>
  const first: unknown = rows[0]?.['id']
  const sessions = await db.query<SessionRow>('SELECT * FROM "Session"')
  const shops: string[] = sessions.map((s) => s.shop)
  const one = await db.queryOne<SessionRow>('SELECT * FROM "Session" WHERE id = ?', params)
  type _one = Assert<Equal<typeof one, SessionRow | null>>
  const anyOne = await db.queryOne('SELECT 1 AS x')
  type _anyOne = Assert<Equal<typeof anyOne, Row | null>>

  const result: ExecuteResult = await db.execute('DELETE FROM "Session" WHERE expires < ?', [new Date()])
  const affected: number = result.rowsAffected
  const id: number | bigint | null = result.lastInsertId
  const results: ExecuteResult[] = await db.batch(statements)

  // begin(): an explicit Transaction.
  const tx: Transaction = await db.begin()
  const txRows: Row[] = await tx.query('SELECT 1 AS x')
  const txTyped: { x: number }[] = await tx.query<{ x: number }>('SELECT ? AS x', [1])
  const txOne: { x: number } | null = await tx.queryOne<{ x: number }>('SELECT 1 AS x')
  const txResult: ExecuteResult = await tx.execute('UPDATE t SET a = ?', [2])
  const finished: boolean = tx.finished
  if (finished) await tx.rollback()
  else await tx.commit()

  // transaction(fn): the callback's result type comes back.
  const total = await db.transaction(async (t) => {
    await t.execute('INSERT INTO t (a) VALUES (?)', [1])
    const row = await t.queryOne<{ n: number }>('SELECT count(*) AS n FROM t')
    return row?.n ?? 0
  })
  type _total = Assert<Equal<typeof total, number>>

  const status: PoolStatus = db.status()
  const counts: number[] = [
    status.size,
    status.idle,
    status.inUse,
    status.waiting,
    status.maxConnections,
    status.minConnections,
  ]
  const statusClosed: boolean = status.closed

  try {
    await db.query('SELECT 1')
  } catch (err: unknown) {
    if (isDbError(err)) {
      const e: DbError = err
      const code: ErrorCode = e.code
      const state: string | undefined = e.sqlState
      const constraint: string | undefined = e.constraint
      const cause: unknown = e.cause
      const message: string = e.message
      void [code, state, constraint, cause, message]
    }
    if (isDbError(err, 'POOL_TIMEOUT')) {
      const timeout: DbError = err
      void timeout
    }
  }

  await db.close()
  await db.close({ timeoutMs: 5_000 })
  await bare.close({})

  // The misuse the check must catch: sql is a string.
  // @ts-expect-error a number is not SQL
  await db.query(42)

  void [backend, closed, target, first, shops, affected, id, results, txRows, txTyped, txOne, txResult]
  void [counts, statusClosed, codes]
}
