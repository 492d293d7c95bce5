'use strict'
// W4: the seed app's concurrency test. Ours: testConcurrentQueries(3);
// peers: three SELECT 1 at once.
const { Latencies, nowNs, usSince } = require('../lib/stats.js')

module.exports = {
  id: 'W4',
  title: 'testConcurrentQueries(3) vs 3 concurrent SELECT 1',
  async run(peer, { sizes }) {
    const n = sizes.w4Ops
    const lat = new Latencies(n)
    for (let i = 0; i < n; i++) {
      const t = nowNs()
      if (peer.concurrent3) {
        const r = await peer.concurrent3()
        if (!r.all_queries_successful) throw new Error('testConcurrentQueries failed')
      } else {
        await Promise.all([peer.select1(), peer.select1(), peer.select1()])
      }
      lat.add(usSince(t))
    }
    return { medianUs: lat.percentile(50), p99Us: lat.percentile(99) }
  },
}
