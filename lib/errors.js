'use strict'

const CODES = new Set([
  'POOL_TIMEOUT',
  'POOL_CLOSED',
  'CONNECTION_FAILED',
  'QUERY_FAILED',
  'TIMEOUT',
  'TRANSACTION_CLOSED',
  'INVALID_ARGUMENT',
  'INVALID_URL',
  'INTERNAL',
])

function isDbError(err, code) {
  // Errors may come from another realm (vm, Jest), so no `instanceof`.
  return (
    Object.prototype.toString.call(err) === '[object Error]' &&
    typeof err.code === 'string' &&
    CODES.has(err.code) &&
    (code === undefined || err.code === code)
  )
}

module.exports = { isDbError, CODES }
