'use strict'
// W1: sequential point-select by primary key, one at a time.
const { Latencies, nowNs, usSince } = require('../lib/stats.js')

module.exports = {
  id: 'W1',
  title: 'sequential point-select by primary key',
  async run(peer, { sizes, ids }) {
    const n = sizes.w1Ops
    const lat = new Latencies(n)
    const start = nowNs()
    if (peer.sync) {
      // better-sqlite3's synchronous call, timed as a caller sees it.
      for (let i = 0; i < n; i++) {
        const t = nowNs()
        if (!peer.pointSelect(ids[i % ids.length])) throw new Error('row not found')
        lat.add(usSince(t))
      }
    } else {
      for (let i = 0; i < n; i++) {
        const t = nowNs()
        if (!(await peer.pointSelect(ids[i % ids.length]))) throw new Error('row not found')
        lat.add(usSince(t))
      }
    }
    const totalUs = usSince(start)
    return { p50Us: lat.percentile(50), p99Us: lat.percentile(99), opsPerSec: n / (totalUs / 1e6) }
  },
}
