'use strict'
// The package entry: the native classes plus the thin JavaScript layer.
const native = require('../index.js')
const { transaction } = require('./transaction.js')
const { isDbError } = require('./errors.js')
const { installLeakDetection } = require('./leaks.js')
const { getPool } = require('./singleton.js')
const { installShutdownHooks } = require('./shutdown.js')
const { databaseHealthLoader, detailedHealthLoader, metricsLoader, maintenanceAction } = require('./remix.js')
const { PoolSessionStorage, MissingSessionTableError } = require('./session-storage.js')

Object.defineProperty(native.Pool.prototype, 'transaction', {
  value: transaction,
  writable: true,
  configurable: true,
})

installLeakDetection(native.Pool)

module.exports = {
  ...native,
  isDbError,
  getPool,
  installShutdownHooks,
  databaseHealthLoader,
  detailedHealthLoader,
  metricsLoader,
  maintenanceAction,
  PoolSessionStorage,
  MissingSessionTableError,
}
