'use strict'
// W2: point-selects with 64 in flight through a pool of 10; W6, the event
// loop's delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution), is
// measured during the same run.
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { Latencies, nowNs, usSince } = require('../lib/stats.js')

const ELD_RESOLUTION_MS = 1

async function inFlight(peer, { ops, concurrency, ids, offset = 0 }, lat) {
  let next = 0
  const worker = async () => {
    while (next < ops) {
      const id = ids[(offset + next++) % ids.length]
      const t = nowNs()
      const row = await peer.pointSelect(id)
      if (lat) lat.add(usSince(t))
      if (!row) throw new Error('row not found')
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

module.exports = {
  id: 'W2',
  title: '64 in flight point-selects, pool of 10 (W6: event-loop delay during it)',
  ELD_RESOLUTION_MS,
  inFlight,
  async run(peer, { sizes, ids }) {
    const ops = sizes.w2Ops
    const lat = new Latencies(ops)
    const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
    const cpu0 = process.cpuUsage()
    const start = nowNs()
    eld.enable()
    await inFlight(peer, { ops, concurrency: sizes.w2InFlight, ids }, lat)
    eld.disable()
    const totalUs = usSince(start)
    const cpu = process.cpuUsage(cpu0)
    return {
      opsPerSec: ops / (totalUs / 1e6),
      p50Us: lat.percentile(50),
      p99Us: lat.percentile(99),
      cpuUsPerOp: (cpu.user + cpu.system) / ops,
      // W6. A loop blocked for the whole run records a single long delay;
      // the max is the better figure there, so both are kept.
      eldP99Ms: eld.count ? eld.percentile(99) / 1e6 : totalUs / 1e3,
      eldMaxMs: eld.count ? eld.max / 1e6 : totalUs / 1e3,
      eldSamples: eld.count,
    }
  },
}
