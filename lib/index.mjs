// ESM entry: the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const pkg = require('./index.js')

export const {
  Pool,
  Transaction,
  resolveConfig,
  isDbError,
  __napiBindingTarget,
  getPool,
  installShutdownHooks,
  databaseHealthLoader,
  detailedHealthLoader,
  metricsLoader,
  maintenanceAction,
  PoolSessionStorage,
  MissingSessionTableError,
} = pkg
export default pkg
