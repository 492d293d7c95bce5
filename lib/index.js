'use strict'
// The package entry: the native classes plus the thin JavaScript layer.
const native = require('../index.js')
const { transaction } = require('./transaction.js')
const { isDbError } = require('./errors.js')
const { installLeakDetection } = require('./leaks.js')

Object.defineProperty(native.Pool.prototype, 'transaction', {
  value: transaction,
  writable: true,
  configurable: true,
})

installLeakDetection(native.Pool)

module.exports = {
  ...native,
  isDbError,
}
