'use strict'
// Leak warnings: a transaction left open longer than leakDetectionMs gets
// one process warning (code DB_POOL_LEAK) carrying the stack of the begin()
// that opened it. The pool counts the leak itself (metrics().leaksDetected);
// the stack only exists here, on the JS side.

const nativeBegin = Symbol.for('shopify-db-pool.nativeBegin')
const watcher = Symbol.for('shopify-db-pool.leakWatcher')

function installLeakDetection(Pool) {
  // The native class is shared by every copy of this module (a dev server's
  // reload, a test runner's realms): the newest copy's watcher is the one
  // called, so its `process` and timers are the live ones.
  Object.defineProperty(Pool, watcher, { value: watch, writable: true, configurable: true })
  if (Pool.prototype[nativeBegin]) return
  const begin = Pool.prototype.begin
  Object.defineProperty(Pool.prototype, nativeBegin, { value: begin })
  Object.defineProperty(Pool.prototype, 'begin', {
    writable: true,
    configurable: true,
    value: function beginWithLeakDetection() {
      const limit = this.options.leakDetectionMs
      if (!limit) return begin.call(this)
      const opened = new Error('transaction opened here')
      Error.captureStackTrace(opened, beginWithLeakDetection)
      return begin.call(this).then((tx) => {
        Pool[watcher](tx, limit, opened.stack)
        return tx
      })
    },
  })
}

function watch(tx, limit, stack) {
  // A WeakRef, so the timer never keeps a forgotten transaction alive:
  // collected means rolled back, which is not a leak.
  const ref = new WeakRef(tx)
  const timer = setTimeout(() => {
    const open = ref.deref()
    if (!open || open.finished) return
    const message = `a transaction has been open for more than ${limit} ms (leakDetectionMs); commit or roll it back`
    const opener = stack.split('\n').slice(1).join('\n')
    const warning = new Error(message)
    warning.name = 'DbPoolLeakWarning'
    warning.code = 'DB_POOL_LEAK'
    warning.stack = `${warning.name}: ${message}\n${opener}`
    try {
      process.emitWarning(warning)
    } catch {
      // This module may run in another realm (a vm context, Jest), whose
      // Error Node does not accept: send the stack as the warning's detail.
      process.emitWarning(message, { type: 'DbPoolLeakWarning', code: 'DB_POOL_LEAK', detail: `transaction opened at:\n${opener}` })
    }
  }, limit)
  timer.unref()
}

module.exports = { installLeakDetection }
