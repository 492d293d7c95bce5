'use strict'
// installShutdownHooks(pool): on SIGTERM/SIGINT, stop taking work, let the
// queries in flight finish, close the pool, exit 0. The process-wide state
// (which pools, which signal listeners) is kept on globalThis, so a second
// call, or a call from a reloaded copy of this module, never adds another
// listener.

const KEY = Symbol.for('shopify-db-pool.shutdown')
const DEFAULT_SIGNALS = ['SIGTERM', 'SIGINT']
const DEFAULT_TIMEOUT_MS = 10_000

function registry() {
  let reg = globalThis[KEY]
  if (!reg) {
    reg = {
      // pool -> { signals, timeoutMs, exit }
      pools: new Map(),
      // signal -> the one listener this package added for it
      listeners: new Map(),
      // set while a shutdown runs
      shuttingDown: null,
    }
    Object.defineProperty(globalThis, KEY, { value: reg, writable: true, configurable: true, enumerable: false })
  }
  return reg
}

function invalid(message) {
  const err = new TypeError(message)
  err.code = 'INVALID_ARGUMENT'
  return err
}

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw invalid('installShutdownHooks options must be an object')
  const { signals = DEFAULT_SIGNALS, timeoutMs = DEFAULT_TIMEOUT_MS, exit = true } = options
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !/^SIG[A-Z0-9]+$/.test(s))) {
    throw invalid('installShutdownHooks signals must be an array of signal names such as "SIGTERM"')
  }
  const uncatchable = signals.find((s) => s === 'SIGKILL' || s === 'SIGSTOP')
  if (uncatchable) throw invalid(`installShutdownHooks cannot hook ${uncatchable}: it cannot be caught`)
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw invalid('installShutdownHooks timeoutMs must be a non-negative number of milliseconds')
  }
  if (typeof exit !== 'boolean') throw invalid('installShutdownHooks exit must be a boolean')
  return { signals: [...new Set(signals)], timeoutMs: Math.floor(timeoutMs), exit }
}

/** Adds the missing listeners and removes the ones no pool wants any more. */
function syncListeners(reg) {
  const wanted = new Set()
  for (const entry of reg.pools.values()) for (const s of entry.signals) wanted.add(s)
  for (const [signal, listener] of reg.listeners) {
    if (!wanted.has(signal)) {
      process.removeListener(signal, listener)
      reg.listeners.delete(signal)
    }
  }
  for (const signal of wanted) {
    if (reg.listeners.has(signal)) continue
    const listener = () => onSignal(reg, signal)
    process.on(signal, listener)
    reg.listeners.set(signal, listener)
  }
}

/**
 * How long close() may wait for in-flight work, leaving part of the budget
 * for closing the connections themselves before the backstop fires.
 */
function drainBudget(timeoutMs) {
  return Math.max(0, timeoutMs - Math.min(1000, Math.floor(timeoutMs / 5)))
}

function onSignal(reg, signal) {
  if (reg.shuttingDown) {
    // A second signal while draining (Ctrl+C twice): stop waiting, unless
    // exiting was left to the app.
    if (reg.shuttingDown.exit) process.exit(1)
    return
  }
  const entries = [...reg.pools].filter(([, entry]) => entry.signals.includes(signal))
  const exit = entries.some(([, entry]) => entry.exit)
  const timeoutMs = Math.max(0, ...entries.map(([, entry]) => entry.timeoutMs))

  const startedAt = Date.now()
  let backstop = null
  if (exit) {
    backstop = setTimeout(() => {
      process.stderr.write(`shopify-db-pool: ${signal}: the pool did not close within ${timeoutMs} ms; exiting\n`)
      process.exit(1)
    }, timeoutMs)
  }

  // pool.close() marks the pool closed at once (new calls reject with
  // POOL_CLOSED), waits for the statements in flight, then closes the
  // connections.
  const shutdown = Promise.allSettled(
    entries.map(([pool, entry]) => Promise.resolve().then(() => pool.close({ timeoutMs: drainBudget(entry.timeoutMs) }))),
  ).then((results) => {
    let clean = true
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        clean = false
        process.stderr.write(`shopify-db-pool: ${signal}: closing a pool failed: ${r.reason && r.reason.message}\n`)
        return
      }
      // close() gives up on work still running after its timeout; such a
      // connection is still counted in use.
      const busy = statusOf(entries[i][0]).inUse
      if (busy > 0) {
        clean = false
        process.stderr.write(
          `shopify-db-pool: ${signal}: ${busy} statement(s) still running after ${entries[i][1].timeoutMs} ms; abandoning them\n`,
        )
      }
    })
    if (!exit) {
      reg.shuttingDown = null
      return undefined
    }
    clearTimeout(backstop)
    return flushStdio(startedAt + timeoutMs).then(() => process.exit(clean ? 0 : 1))
  })
  reg.shuttingDown = { exit, done: shutdown }
}

/**
 * Waits (until `deadline` at most) for what the app wrote to stdout and
 * stderr to reach the OS. Writes to a pipe (a container's or systemd's log
 * collector) are asynchronous in Node, and process.exit() drops what is
 * still queued: the last log lines of a shutdown, the ones an operator
 * reads, would be lost.
 */
function flushStdio(deadline) {
  const queued = () => [process.stdout, process.stderr].some((s) => s && !s.destroyed && s.writableLength > 0)
  return new Promise((resolve) => {
    const check = () => {
      if (!queued() || Date.now() >= deadline) resolve()
      else setTimeout(check, 5)
    }
    check()
  })
}

function statusOf(pool) {
  try {
    return typeof pool.status === 'function' ? pool.status() : { inUse: 0 }
  } catch (_) {
    return { inUse: 0 }
  }
}

/**
 * On each of `signals` (default SIGTERM, SIGINT): close `pool` (it stops
 * taking work at once and lets in-flight queries finish), let stdout and
 * stderr drain, then exit with code 0. The whole shutdown is bounded by
 * `timeoutMs` (default 10000): statements still running then are abandoned
 * and the process exits with code 1. A second signal during the shutdown exits with code 1 at once.
 * With `exit: false` the pool is closed and exiting is left to the app.
 * Calling it again for the same pool updates its options; it never adds a
 * second listener (the registry is on globalThis, so a reloaded copy of this
 * module shares it). Returns a function that removes the hooks for this pool.
 */
function installShutdownHooks(pool, options = {}) {
  if (!pool || typeof pool.close !== 'function') {
    throw invalid('installShutdownHooks(pool) takes the Pool to close on shutdown')
  }
  const entry = checkOptions(options)
  const reg = registry()
  // Forget pools closed since (getPool() replaces a closed pool).
  for (const known of reg.pools.keys()) if (known !== pool && known.closed) reg.pools.delete(known)
  reg.pools.set(pool, entry)
  syncListeners(reg)
  return function uninstallShutdownHooks() {
    if (!reg.pools.has(pool)) return
    reg.pools.delete(pool)
    syncListeners(reg)
  }
}

module.exports = { installShutdownHooks, SHUTDOWN_KEY: KEY }
