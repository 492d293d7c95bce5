'use strict'
// Turns a run's medians into bench/results/latest.json, latest.md and
// latest.svg: per backend, each metric of ours against each peer, the ratio
// ours/peer and which way is better, and the goals of issue 5.
const fs = require('node:fs')
const path = require('node:path')
const { median } = require('./lib/stats.js')

const OURS = 'shopify-db-pool'
const BACKEND_TITLES = { sqlite: 'SQLite', postgres: 'PostgreSQL', mysql: 'MySQL (MariaDB)' }

// Metrics compared with every peer that has them.
const METRICS = [
  { w: 'W1', key: 'p50Us', label: 'p50', unit: 'µs', better: 'lower', chart: true },
  { w: 'W1', key: 'p99Us', label: 'p99', unit: 'µs', better: 'lower' },
  { w: 'W1', key: 'opsPerSec', label: 'ops/s', unit: '', better: 'higher' },
  { w: 'W2', key: 'opsPerSec', label: 'ops/s', unit: '', better: 'higher', chart: true },
  { w: 'W2', key: 'p99Us', label: 'p99', unit: 'µs', better: 'lower' },
  { w: 'W2', key: 'cpuUsPerOp', label: 'client CPU per op', unit: 'µs', better: 'lower', chart: true },
  { w: 'W3', key: 'p50Us', label: 'p50 (ours checkHealth, peer SELECT 1)', unit: 'µs', better: 'lower', chart: true },
  { w: 'W3', key: 'p99Us', label: 'p99 (ours checkHealth, peer SELECT 1)', unit: 'µs', better: 'lower' },
  { w: 'W3', key: 'select1P50Us', label: 'SELECT 1 p50 (both)', unit: 'µs', better: 'lower' },
  { w: 'W4', key: 'medianUs', label: 'median (ours testConcurrentQueries(3))', unit: 'µs', better: 'lower', chart: true },
  { w: 'W5', key: 'rowsPerSec', label: 'rows/s', unit: '', better: 'higher', chart: true },
  { w: 'W6', key: 'eldP99Ms', label: 'event-loop delay p99 during W2', unit: 'ms', better: 'lower', chart: true },
]

// Issue 5's goals. `peer` goals bound the ratio ours/peer; `limit` goals
// bound our own figure.
const GOALS = [
  { backend: 'sqlite', w: 'W1', key: 'p50Us', peer: 'better-sqlite3', op: '<=', value: 3, text: "W1 p50 ≤ 3× better-sqlite3's sync call" },
  { backend: 'sqlite', w: 'W1', key: 'opsPerSec', peer: 'sqlite3', op: '>=', value: 3, text: 'W1 ≥ 3× sqlite3 (ops/s)' },
  { backend: 'sqlite', w: 'W1', key: 'opsPerSec', peer: 'prisma', op: '>=', value: 10, text: 'W1 ≥ 10× Prisma 7 (ops/s)' },
  { backend: 'sqlite', w: 'W2', key: 'opsPerSec', peer: 'better-sqlite3', op: '>=', value: 1.0, text: 'W2 ≥ 1.0× better-sqlite3' },
  { backend: 'sqlite', w: 'W2', key: 'opsPerSec', peer: 'prisma', op: '>=', value: 2, text: 'W2 ≥ 2× Prisma 7 (ops/s)' },
  { backend: 'sqlite', w: 'W3', key: 'p50Us', limit: 50, unit: 'µs', text: 'W3 checkHealth p50 < 0.05 ms' },
  { backend: 'sqlite', w: 'W4', key: 'medianUs', limit: 50, unit: 'µs', text: 'W4 testConcurrentQueries(3) median < 0.05 ms' },
  { backend: 'sqlite', w: 'W6', key: 'eldP99Ms', limit: 5, unit: 'ms', text: 'W6 p99 < 5 ms (during W2)' },
  { backend: 'sqlite', w: 'W7', key: 'growthMb', limit: 10, unit: 'MB', text: 'W7 RSS growth < 10 MB' },
  { backend: 'postgres', w: 'W1', key: 'p50Us', peer: 'pgbench -c 1', op: '<=', value: 1.3, text: "W1 p50 ≤ 1.3× pgbench's 1-client p50" },
  // One round trip bounds every client: the report says how far pgbench
  // itself is from Prisma.
  { backend: 'postgres', w: 'W1', key: 'opsPerSec', peer: 'prisma', op: '>=', value: 10, text: 'W1 ≥ 10× Prisma 7 (ops/s)', ceiling: 'pgbench -c 1' },
  { backend: 'postgres', w: 'W2', key: 'opsPerSec', peer: 'pgbench -c 10', op: '>=', value: 0.9, text: 'W2 ≥ 0.9× pgbench 10-client tps' },
  { backend: 'postgres', w: 'W2', key: 'opsPerSec', peer: 'prisma', op: '>=', value: 2, text: 'W2 ≥ 2× Prisma 7 (ops/s)' },
  { backend: 'postgres', w: 'W7', key: 'growthMb', limit: 10, unit: 'MB', text: 'W7 RSS growth < 10 MB' },
  { backend: 'mysql', w: 'W2', key: 'opsPerSec', peer: 'mysql2', op: '>=', value: 1.5, text: 'W2 ≥ 1.5× mysql2' },
  { backend: 'mysql', w: 'W7', key: 'growthMb', limit: 10, unit: 'MB', text: 'W7 RSS growth < 10 MB' },
]

function num(v, unit = '') {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—'
  let s
  if (Math.abs(v) >= 1000) s = Math.round(v).toLocaleString('en-US')
  else if (Math.abs(v) >= 100) s = v.toFixed(0)
  else if (Math.abs(v) >= 10) s = v.toFixed(1)
  else s = v.toFixed(2)
  return unit ? `${s} ${unit}` : s
}
const ratioText = (r) => (Number.isFinite(r) ? (r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toFixed(3)) : '—')

const get = (med, peer, w, key) => med?.[peer]?.[w]?.[key]

// How many times better ours is: > 1 means ours wins, whatever the direction.
const advantage = (ratio, better) => (better === 'higher' ? ratio : 1 / ratio)

// The ratio in each round, where both ran in every round: contenders take
// turns within a round, so a load swing on the host moves both sides of a
// round's ratio, while the median of each side may come from different
// rounds.
function perRoundRatios(goal, backends) {
  const rounds = backends[goal.backend]?.rounds
  const ours = rounds?.[OURS]?.[goal.w]
  const peer = rounds?.[goal.peer]?.[goal.w]
  if (!ours || !peer || ours.length !== peer.length || ours.length < 2) return null
  const ratios = ours.map((r, i) => r[goal.key] / peer[i][goal.key]).filter(Number.isFinite)
  return ratios.length === ours.length ? ratios : null
}

function evaluateGoal(goal, backends) {
  const med = backends[goal.backend]?.median
  const ours = get(med, OURS, goal.w, goal.key)
  if (goal.limit !== undefined) {
    const met = Number.isFinite(ours) ? ours < goal.limit : null
    return { ...goal, ours, measured: num(ours, goal.unit), met }
  }
  const peerValue = get(med, goal.peer, goal.w, goal.key)
  const ratio = ours / peerValue
  const met = Number.isFinite(ratio) ? (goal.op === '>=' ? ratio >= goal.value : ratio <= goal.value) : null
  let measured = `${ratioText(ratio)}× (${num(ours)} vs ${num(peerValue)})`
  const ceiling = goal.ceiling && get(med, goal.ceiling, goal.w, goal.key) / peerValue
  if (Number.isFinite(ceiling)) measured += `; ${goal.ceiling} itself is ${ratioText(ceiling)}×`
  const roundRatios = perRoundRatios(goal, backends)
  const byRound = roundRatios
    ? `${roundRatios.map(ratioText).join(', ')} (median ${ratioText(median(roundRatios))})`
    : '—'
  return { ...goal, ours, peerValue, ratio, measured, roundRatios, byRound, met }
}

function comparisons(backend, med) {
  const rows = []
  const peers = Object.keys(med).filter((p) => p !== OURS)
  for (const m of METRICS) {
    const ours = get(med, OURS, m.w, m.key)
    for (const peer of peers) {
      const peerValue = get(med, peer, m.w, m.key)
      if (peerValue === undefined) continue
      const ratio = ours / peerValue
      const goal = GOALS.find((g) => g.backend === backend && g.w === m.w && g.key === m.key && g.peer === peer)
      const evaluated = goal && Number.isFinite(ratio) ? (goal.op === '>=' ? ratio >= goal.value : ratio <= goal.value) : null
      rows.push({ ...m, peer, ours, peerValue, ratio, advantage: advantage(ratio, m.better), goal: goal ? `${goal.op === '>=' ? '≥' : '≤'} ${goal.value}` : null, met: goal ? evaluated : undefined })
    }
  }
  // Goals on our own figures, shown with the rows of their workload.
  for (const g of GOALS.filter((g) => g.backend === backend && g.limit !== undefined)) {
    const ours = get(med, OURS, g.w, g.key)
    rows.push({ w: g.w, key: g.key, label: g.text, unit: g.unit, better: 'lower', peer: null, ours, goal: `< ${g.limit} ${g.unit}`, met: Number.isFinite(ours) ? ours < g.limit : null })
  }
  const order = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7']
  return rows.sort((a, b) => order.indexOf(a.w) - order.indexOf(b.w))
}

const metText = (met) => (met === undefined ? '' : met === null ? 'no data' : met ? '**met**' : '**not met**')

function markdown(results, tables, goals) {
  const m = results.machine
  const s = results.sizes
  const L = []
  L.push('# shopify-db-pool benchmarks', '')
  L.push(`Run: ${results.startedAt}, ${results.mode} mode${results.mode === 'quick' ? ' (a smoke run: fewer operations and rounds than issue 5 asks, see Sizes)' : ''}, ${results.durationS} s.`)
  L.push('Each figure is the median over rounds; in every round the contenders take turns, in a rotated order, at each workload.', '')
  L.push('## Machine', '')
  L.push(`- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; ${m.os}`)
  const load = m.loadAverage
  if (load) {
    const busy = Math.max(load.start[0], load.end[0]) > m.cores / 2
    L.push(`- Load average (1 min) at start ${load.start[0].toFixed(2)}, at end ${load.end[0].toFixed(2)}${busy ? ': **the machine was busy with other work during this run; absolute figures are disturbed, ratios within a round less so**' : ''}`)
  }
  L.push(`- Node ${m.node}; idle event-loop delay (1 ms resolution) p50 ${num(m.idleEventLoopDelay.p50Ms, 'ms')}, p99 ${num(m.idleEventLoopDelay.p99Ms, 'ms')}`)
  for (const [b, v] of Object.entries(m.servers)) L.push(`- ${BACKEND_TITLES[b]}: ${v}`)
  if (m.pgbench) L.push(`- ${m.pgbench}`)
  L.push(`- Packages: ${Object.entries(m.packages).map(([k, v]) => `${k} ${v ?? '(missing)'}`).join('; ')}`)
  L.push('')
  L.push('## Sizes', '')
  L.push(`${s.rounds} rounds. W1 ${s.w1Ops.toLocaleString('en-US')} sequential ops; W2 ${s.w2Ops.toLocaleString('en-US')} ops, ${s.w2InFlight} in flight, pool of 10; W3 ${s.w3Ops} probes; W4 ${s.w4Ops} runs; W5 ${s.w5Writers} writers × ${s.w5RowsPerWriter.toLocaleString('en-US')} inserts; W7 RSS after ${s.w7Total.toLocaleString('en-US')} queries against after ${s.w7Baseline.toLocaleString('en-US')}${s.w7Total < 1000000 ? ' (scaled down from 1,000,000 in this mode)' : ''}; pgbench ${s.pgbenchSeconds} s per run.`, '')
  L.push('## Goals (issue 5)', '')
  L.push('Met or not is judged on the medians (the ratio of the two medians over rounds). The ratio within each round, in round order, shows how far the host moved it.', '')
  L.push('| backend | goal | measured (ours/peer, medians) | met | ratio by round |', '| --- | --- | --- | --- | --- |')
  for (const g of goals) L.push(`| ${BACKEND_TITLES[g.backend]} | ${g.text} | ${g.measured} | ${metText(g.met)} | ${g.byRound ?? ''} |`)
  L.push('| MySQL (MariaDB) | ≥ 10× / ≥ 2× Prisma 7 | n/a: Prisma is benchmarked with its SQLite and PostgreSQL adapters only | | |', '')
  for (const [backend, rows] of Object.entries(tables)) {
    const b = results.backends[backend]
    L.push(`## ${BACKEND_TITLES[backend]}`, '')
    L.push('| workload | metric | better | ours | peer | peer\'s | ours/peer | goal | met |', '| --- | --- | --- | ---: | --- | ---: | ---: | --- | --- |')
    for (const r of rows) {
      const better = r.peer ? (r.better === 'higher' ? 'higher (ratio > 1)' : 'lower (ratio < 1)') : r.better
      L.push(`| ${r.w} | ${r.label}${r.unit && r.peer ? ` (${r.unit})` : ''} | ${better} | ${num(r.ours)} | ${r.peer ?? '—'} | ${r.peer ? num(r.peerValue) : '—'} | ${r.peer ? ratioText(r.ratio) : '—'} | ${r.goal ?? ''} | ${metText(r.met)} |`)
    }
    const w5 = Object.entries(b.median).filter(([, v]) => v.W5).map(([p, v]) => `${p} ${v.W5.verified ? `all ${v.W5.expected} rows in every round` : `ROWS MISSING in some round (median ${v.W5.found} of ${v.W5.expected})`}`)
    if (w5.length) L.push('', `W5 check, counted through a separate connection: ${w5.join('; ')}.`)
    const w7 = b.median[OURS]?.W7
    if (w7) L.push('', `W7 (ours, alone in a child process): RSS ${num(w7.rssBeforeMb, 'MB')} after ${w7.baselineQueries.toLocaleString('en-US')} queries, ${num(w7.rssAfterMb, 'MB')} after ${w7.totalQueries.toLocaleString('en-US')}: growth ${num(w7.growthMb, 'MB')} (JS heap ${num(w7.heapGrowthMb, 'MB')}, external ${num(w7.externalGrowthMb, 'MB')})${w7.checkpoints ? `; RSS at each quarter ${w7.checkpoints.map((c) => num(c.rssMb)).join(' / ')} MB, second-half growth ${num(w7.secondHalfGrowthMb, 'MB')} (a leak keeps climbing; allocator high-water marks level off)` : ''}.`)
    const viaBouncer = b.median['shopify-db-pool via PgBouncer']?.W2
    const spread = b.median['shopify-db-pool primary+replica']?.W2
    if (viaBouncer || spread) {
      const direct = b.median[OURS]?.W2
      const vs = (w) => (direct && w ? ` (${ratioText(w.opsPerSec / direct.opsPerSec)}× direct)` : '')
      L.push('', `Scale-out (issue 7), W2 only: ${[
        viaBouncer && `through PgBouncer (transaction mode, pgbouncer=true, default_pool_size 5) ${num(viaBouncer.opsPerSec)} ops/s${vs(viaBouncer)}, p99 ${num(viaBouncer.p99Us, 'µs')}`,
        spread && `reads spread over primary + replica (5 connections each) ${num(spread.opsPerSec)} ops/s${vs(spread)}, p99 ${num(spread.p99Us, 'µs')}, ${num(100 * spread.replicaShare)}% served by the replica`,
      ].filter(Boolean).join('; ')}. Both servers and PgBouncer share this machine's cores with the client.`)
    }
    const errs = Object.entries(b.errors || {})
    if (errs.length) L.push('', `Failures: ${errs.map(([p, list]) => `${p}: ${list.join(', ')}`).join('; ')}.`)
    L.push('')
  }
  const missing = Object.entries(results.errors || {}).filter(([b]) => !results.backends[b])
  for (const [b, byPeer] of missing) L.push(`## ${BACKEND_TITLES[b] ?? b}`, '', `Not measured: ${Object.values(byPeer).flat().join('; ')}`, '')
  L.push('## Notes', '')
  L.push('- Ratios are ours/peer: for throughput (ops/s, rows/s) above 1 is better for us, for latency, CPU and delay below 1 is.')
  L.push("- W1 on better-sqlite3 times its synchronous call directly; elsewhere each call is awaited. In W2 better-sqlite3's calls are awaited by 64 async workers, as an app would; each call still blocks the loop.")
  L.push('- W2 client CPU per op is process.cpuUsage() (user + system, every thread of the Node process, so the embedded SQLite work and our Rust threads count) divided by the operations.')
  L.push('- W6 is the p99 of perf_hooks.monitorEventLoopDelay (1 ms resolution) during W2, as Node reports it: a 1 ms timer that fires on time reads about 1 ms (see the idle figure above). A loop blocked for the whole run records very few samples, so its p99 is close to the whole blockage.')
  L.push("- pgbench: -M prepared, the same primary-key lookup, with the key built around the parameter in SQL ('offline_shop-' || $1 || '.myshopify.com') since pgbench variables are numbers; -c 1 -j 1 (latencies from its per-transaction log) and -c 10 -j 2. It competes with PostgreSQL for the same 2 cores, as the Node clients do.")
  L.push('- Prisma 7 uses its driver adapters (@prisma/adapter-better-sqlite3: one connection; @prisma/adapter-pg: pg.Pool of 10). Every pooled peer gets 10 connections; better-sqlite3, sqlite3 and Prisma on SQLite have one.')
  L.push('- W3 compares our checkHealth() (a ping plus the pool report) with the peers\' SELECT 1; the "SELECT 1 p50 (both)" row compares like with like.')
  return L.join('\n') + '\n'
}

function svg(tables) {
  const bars = []
  for (const [backend, rows] of Object.entries(tables)) {
    for (const r of rows) {
      if (!r.peer || !METRICS.find((m) => m.w === r.w && m.key === r.key && m.chart) || !Number.isFinite(r.advantage) || r.advantage <= 0) continue
      const goal = GOALS.find((g) => g.backend === backend && g.w === r.w && g.key === r.key && g.peer === r.peer)
      const goalAdv = goal ? (r.better === 'higher' ? goal.value : 1 / goal.value) : null
      bars.push({ label: `${BACKEND_TITLES[backend].split(' ')[0]} ${r.w} ${r.label.split(' (')[0]} vs ${r.peer}`, adv: r.advantage, goalAdv, met: r.met })
    }
  }
  const W = 960
  const left = 360
  const right = 90
  const rowH = 18
  const top = 70
  const H = top + bars.length * rowH + 40
  const span = Math.log2(128) // 1/128× … 128×
  const x = (adv) => left + ((Math.max(-span, Math.min(span, Math.log2(adv))) + span) / (2 * span)) * (W - left - right)
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`)
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`)
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">shopify-db-pool against its peers: how many times better (log scale)</text>`)
  out.push(`<text x="10" y="38" fill="#555">Right of 1× (green): ours is better (higher throughput, lower latency, CPU or delay). Black ticks: issue 5's goals.</text>`)
  for (const t of [1 / 64, 1 / 16, 1 / 4, 1, 4, 16, 64]) {
    const tx = x(t)
    out.push(`<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${H - 30}" stroke="${t === 1 ? '#333' : '#ddd'}" stroke-width="${t === 1 ? 1.5 : 1}"/>`)
    out.push(`<text x="${tx}" y="${top - 12}" text-anchor="middle" fill="#555">${t >= 1 ? t : `1/${1 / t}`}×</text>`)
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH
    const x1 = x(1)
    const x2 = x(b.adv)
    const color = b.adv >= 1 ? '#2e7d32' : '#c62828'
    out.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>`)
    out.push(`<rect x="${Math.min(x1, x2)}" y="${y + 3}" width="${Math.max(1, Math.abs(x2 - x1))}" height="${rowH - 6}" fill="${color}" opacity="0.85"/>`)
    if (b.goalAdv) out.push(`<line x1="${x(b.goalAdv)}" y1="${y + 1}" x2="${x(b.goalAdv)}" y2="${y + rowH - 1}" stroke="#000" stroke-width="2"/>`)
    const clipped = Math.abs(Math.log2(b.adv)) > span
    const label = (clipped ? (b.adv >= 1 ? '▶ ' : '◀ ') : '') + (b.adv >= 1 ? `${b.adv >= 10 ? b.adv.toFixed(0) : b.adv.toFixed(2)}×` : `1/${(1 / b.adv) >= 10 ? (1 / b.adv).toFixed(0) : (1 / b.adv).toFixed(2)}×`)
    if (clipped) {
      // Past the axis: the figure goes inside the bar, at its clipped end.
      out.push(`<text x="${b.adv >= 1 ? x2 - 4 : x2 + 4}" y="${y + 12}" text-anchor="${b.adv >= 1 ? 'end' : 'start'}" fill="#fff">${label}</text>`)
    } else {
      out.push(`<text x="${b.adv >= 1 ? Math.max(x1, x2) + 4 : Math.min(x1, x2) - 4}" y="${y + 12}" text-anchor="${b.adv >= 1 ? 'start' : 'end'}" fill="${color}">${label}</text>`)
    }
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function write(results, dir) {
  fs.mkdirSync(dir, { recursive: true })
  const tables = Object.fromEntries(Object.entries(results.backends).map(([b, v]) => [b, comparisons(b, v.median)]))
  const goals = GOALS.filter((g) => results.backends[g.backend]).map((g) => evaluateGoal(g, results.backends))
  const json = { ...results, goals, comparisons: tables }
  const md = markdown(results, tables, goals)
  const paths = {
    json: path.join(dir, 'latest.json'),
    md: path.join(dir, 'latest.md'),
    svg: path.join(dir, 'latest.svg'),
  }
  fs.writeFileSync(paths.json, JSON.stringify(json, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n')
  fs.writeFileSync(paths.md, md)
  fs.writeFileSync(paths.svg, svg(tables))
  return { paths, markdown: md }
}

module.exports = { write, METRICS, GOALS }
