'use strict'
// pool.transaction(fn): commit when fn resolves, roll back when it throws.

async function transaction(fn) {
  if (typeof fn !== 'function') {
    const err = new TypeError('transaction(fn) takes an async function')
    err.code = 'INVALID_ARGUMENT'
    throw err
  }
  const tx = await this.begin()
  let result
  try {
    result = await fn(tx)
  } catch (err) {
    if (!tx.finished) {
      // The caller's error matters more than a failed rollback; a rollback
      // that fails means the connection is gone, which discards it anyway.
      await tx.rollback().catch(() => {})
    }
    throw err
  }
  if (!tx.finished) await tx.commit()
  return result
}

module.exports = { transaction }
