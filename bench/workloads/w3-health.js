'use strict'
// W3: the health probe. Ours: checkHealth(); peers: SELECT 1. Ours also runs
// a plain SELECT 1 (queryOne) so both sides of that comparison exist.
const { Latencies, nowNs, usSince } = require('../lib/stats.js')

async function timeCalls(n, fn) {
  const lat = new Latencies(n)
  for (let i = 0; i < n; i++) {
    const t = nowNs()
    await fn()
    lat.add(usSince(t))
  }
  return lat
}

module.exports = {
  id: 'W3',
  title: 'health probe: checkHealth() vs SELECT 1',
  async run(peer, { sizes }) {
    const n = sizes.w3Ops
    if (peer.health) {
      const health = await timeCalls(n, async () => {
        const h = await peer.health()
        if (h.status === 'unhealthy') throw new Error(`unhealthy: ${h.error}`)
      })
      const one = await timeCalls(n, () => peer.select1())
      return {
        p50Us: health.percentile(50),
        p99Us: health.percentile(99),
        select1P50Us: one.percentile(50),
        select1P99Us: one.percentile(99),
      }
    }
    const one = await timeCalls(n, () => peer.select1())
    return { p50Us: one.percentile(50), p99Us: one.percentile(99), select1P50Us: one.percentile(50), select1P99Us: one.percentile(99) }
  },
}
