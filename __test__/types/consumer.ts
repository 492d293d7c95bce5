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
  getPool,
  installShutdownHooks,
  databaseHealthLoader,
  detailedHealthLoader,
  metricsLoader,
  maintenanceAction,
  PoolSessionStorage,
  MissingSessionTableError,
  type ShutdownHooksOptions,
  type RouteArgs,
  type RouteHandler,
  type DatabaseHealthLoaderOptions,
  type TokenOptions,
  type DetailedHealthLoaderOptions,
  type MetricsLoaderOptions,
  type MaintenanceActionOptions,
  type MaintenanceResult,
  type PoolSessionStorageOptions,
} from 'shopify-db-pool'
import { Session } from '@shopify/shopify-api'
import type { SessionStorage } from '@shopify/shopify-app-session-storage'

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

// The JavaScript layer: singleton, shutdown hooks, Remix routes, session storage.
export async function integration(): Promise<void> {
  const db: Pool = getPool()
  const same: Pool = getPool({ url: 'file:./dev.sqlite', maxConnections: 5 })

  const shutdown: ShutdownHooksOptions = { signals: ['SIGTERM', 'SIGINT'], timeoutMs: 10_000, exit: true }
  const uninstall: () => void = installShutdownHooks(db, shutdown)
  const uninstallDefault: () => void = installShutdownHooks(same)
  uninstall()
  uninstallDefault()
  // @ts-expect-error signals are signal names
  installShutdownHooks(db, { signals: ['SIGNOPE'] })

  // Remix v2 / React Router v7: `export const loader = databaseHealthLoader(db)`.
  const healthOptions: DatabaseHealthLoaderOptions = { timeoutMs: 2_000 }
  const token: TokenOptions = { token: 'secret' }
  const detailedOptions: DetailedHealthLoaderOptions = { ...token, timeoutMs: 2_000, concurrentQueries: 3 }
  const metricsOptions: MetricsLoaderOptions = { token: 'secret' }
  const maintenanceOptions: MaintenanceActionOptions = { token: 'secret', table: 'Session' }
  const loaders: RouteHandler[] = [
    databaseHealthLoader(db),
    databaseHealthLoader(db, healthOptions),
    detailedHealthLoader(db),
    detailedHealthLoader(db, detailedOptions),
    metricsLoader(db),
    metricsLoader(db, metricsOptions),
    maintenanceAction(db),
    maintenanceAction(db, maintenanceOptions),
  ]
  const request = new Request('http://localhost/health/database', { headers: { Authorization: 'Bearer secret' } })
  const args: RouteArgs = { request, params: { id: '1' }, context: {} }
  for (const loader of loaders) {
    const response: Response = await loader(args)
    const status: number = response.status
    const contentType: string | null = response.headers.get('content-type')
    void [status, contentType]
  }
  const loader = databaseHealthLoader(db)
  const response: Response = await loader({ request })
  const action = maintenanceAction(db, { token: 'secret' })
  const result = (await (await action({ request: new Request('http://localhost/m', { method: 'POST' }) })).json()) as MaintenanceResult
  const done: [number, number, PoolStatus] = [result.deleted, result.reaped, result.status]
  // @ts-expect-error a route function needs the request
  await loader({})

  // Shopify session storage: a drop-in for PrismaSessionStorage.
  const storageOptions: PoolSessionStorageOptions = {
    tableName: 'Session',
    connectionRetries: 2,
    connectionRetryIntervalMs: 5_000,
    sqliteTimestampFormat: 'auto',
  }
  const storage = new PoolSessionStorage(db, storageOptions)
  const asShopify: SessionStorage = storage
  const ready: boolean = await storage.isReady()
  const session = new Session({ id: 'offline_shop.myshopify.com', shop: 'shop.myshopify.com', state: 'state', isOnline: false })
  const stored: boolean = await asShopify.storeSession(session)
  const loaded: Session | undefined = await storage.loadSession(session.id)
  const found: Session[] = await storage.findSessionsByShop('shop.myshopify.com')
  const deleted: boolean = await storage.deleteSession(session.id)
  const deletedMany: boolean = await storage.deleteSessions([session.id])
  const settings: [Pool, string, number, number, string] = [
    storage.pool,
    storage.tableName,
    storage.connectionRetries,
    storage.connectionRetryIntervalMs,
    storage.sqliteTimestampFormat,
  ]
  // @ts-expect-error storeSession takes a Session
  await storage.storeSession({ id: 'x' })

  try {
    await new PoolSessionStorage(db, { tableName: 'Missing', connectionRetries: 0 }).isReady()
  } catch (err: unknown) {
    if (err instanceof MissingSessionTableError) {
      const code: 'SESSION_TABLE_MISSING' = err.code
      const columns: string[] | undefined = err.missingColumns
      const message: string = err.message
      void [code, columns, message]
    }
  }
  const made = new MissingSessionTableError('missing', { cause: new Error('no such table'), missingColumns: ['shop'] })

  void [same, response, done, ready, stored, loaded, found, deleted, deletedMany, settings, made]
}
