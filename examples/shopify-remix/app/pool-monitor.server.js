// A sampler for the dashboard: every SAMPLE_MS it takes the pool's status
// and its latency histograms, and keeps the last HISTORY_MS of points.
//
// The pool's figures (metrics()) are cumulative since the pool was created;
// the charts want "p50/p99 over the last 2 s". So each sample reads the
// histogram buckets of prometheus(), subtracts the previous sample's, and
// estimates the percentiles of the interval from that difference (as
// Prometheus' histogram_quantile does). Reading them costs no query.
//
// One sampler per process, kept on globalThis beside the pool so that a dev
// server's module reload does not start a second one.

export const SAMPLE_MS = 2000;
export const HISTORY_MS = 5 * 60 * 1000;
const MAX_POINTS = Math.ceil(HISTORY_MS / SAMPLE_MS);

const KEY = Symbol.for("shopify-db-pool.example.monitor");

const HISTOGRAMS = {
  acquire: "db_pool_acquire_duration_seconds",
  query: "db_pool_query_duration_seconds",
};

/** Parses the histograms we chart out of Prometheus text. */
export function parseHistograms(text) {
  const out = {};
  for (const [key, name] of Object.entries(HISTOGRAMS)) out[key] = { buckets: [], sum: 0, count: 0 };
  for (const line of String(text).split("\n")) {
    if (!line || line.startsWith("#")) continue;
    for (const [key, name] of Object.entries(HISTOGRAMS)) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (rest.startsWith("_bucket")) {
        const le = /le="([^"]+)"/.exec(rest)?.[1];
        if (le !== undefined) out[key].buckets.push({ le: le === "+Inf" ? Infinity : Number(le), n: value });
      } else if (rest.startsWith("_sum")) {
        out[key].sum += value;
      } else if (rest.startsWith("_count")) {
        out[key].count += value;
      }
    }
  }
  for (const h of Object.values(out)) h.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/**
 * Percentile q (0..1), in ms, of the samples between two cumulative bucket
 * snapshots; null when nothing was recorded in between.
 */
export function intervalQuantile(prev, cur, q) {
  const deltas = cur.buckets.map((b, i) => ({ le: b.le, n: b.n - (prev?.buckets[i]?.n ?? 0) }));
  const total = deltas.length ? deltas[deltas.length - 1].n : 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, n } of deltas) {
    if (n >= rank) {
      if (le === Infinity) return lower * 1000;
      const inBucket = n - below;
      const frac = inBucket > 0 ? (rank - below) / inBucket : 1;
      return (lower + (le - lower) * frac) * 1000;
    }
    lower = le;
    below = n;
  }
  return lower * 1000;
}

function round(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function createMonitor(db) {
  const points = [];
  let prev = null;
  let prevQueries = 0;
  let prevErrors = 0;

  function sample() {
    if (db.closed) return stop();
    let status;
    let metrics;
    let hist;
    try {
      status = db.status();
      metrics = db.metrics();
      hist = parseHistograms(db.prometheus());
    } catch (err) {
      console.error(`[pool-monitor] sampling failed: ${err.code ?? ""} ${err.message}`);
      return;
    }
    if (prev) {
      const series = {};
      for (const key of Object.keys(HISTOGRAMS)) {
        const count = hist[key].count - prev[key].count;
        series[key] = {
          count,
          avg: count > 0 ? round(((hist[key].sum - prev[key].sum) / count) * 1000) : null,
          p50: round(intervalQuantile(prev[key], hist[key], 0.5)),
          p99: round(intervalQuantile(prev[key], hist[key], 0.99)),
        };
      }
      points.push({
        t: Date.now(),
        size: status.size,
        idle: status.idle,
        inUse: status.inUse,
        waiting: status.waiting,
        queries: metrics.queriesTotal - prevQueries,
        errors: metrics.errorsTotal - prevErrors,
        acquire: series.acquire,
        query: series.query,
      });
      if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
    }
    prev = hist;
    prevQueries = metrics.queriesTotal;
    prevErrors = metrics.errorsTotal;
  }

  const timer = setInterval(sample, SAMPLE_MS);
  timer.unref();
  sample(); // the baseline: the first point comes one interval later

  function stop() {
    clearInterval(timer);
    if (globalThis[KEY]?.db === db) delete globalThis[KEY];
  }

  return { db, points, stop };
}

/** The process's sampler for `db`, started on first use. */
export function getMonitor(db) {
  const current = globalThis[KEY];
  if (current && current.db === db && !db.closed) return current;
  current?.stop();
  globalThis[KEY] = createMonitor(db);
  return globalThis[KEY];
}

/** Everything the dashboard draws: the pool now, and the recent history. */
export function poolSnapshot(db) {
  const monitor = getMonitor(db);
  const status = db.status();
  const m = db.metrics();
  const pick = ({ count, avg, p50, p95, p99, max }) => ({
    count,
    avg: round(avg),
    p50: round(p50),
    p95: round(p95),
    p99: round(p99),
    max: round(max),
  });
  return {
    backend: db.backend,
    status,
    metrics: {
      queriesTotal: m.queriesTotal,
      errorsTotal: m.errorsTotal,
      errorsByCode: m.errorsByCode,
      acquireTimeouts: m.acquireTimeouts,
      connectionsCreated: m.connectionsCreated,
      connectionsClosed: m.connectionsClosed,
      connectionsReaped: m.connectionsReaped,
      leaksDetected: m.leaksDetected,
      acquireWaitMs: pick(m.acquireWaitMs),
      queryTimeMs: pick(m.queryTimeMs),
      connectTimeMs: pick(m.connectTimeMs),
    },
    history: monitor.points.slice(),
    sampleMs: SAMPLE_MS,
    historyMs: HISTORY_MS,
    burst: burstState(),
    at: new Date().toISOString(),
  };
}

// ---- load generator for the "Run a burst" button ------------------------

const BURST_KEY = Symbol.for("shopify-db-pool.example.burst");
export const BURST_MS = 6000;

function burstState() {
  const b = globalThis[BURST_KEY];
  return b ? { running: b.running, startedAt: b.startedAt, queries: b.queries, errors: b.errors } : { running: false };
}

/** Whether the button may start a burst: POOL_DEMO_BURST=0 turns it off. */
export const burstEnabled = process.env.POOL_DEMO_BURST !== "0";

/**
 * Runs small recursive-CTE queries from twice as many workers as the pool
 * has connections for BURST_MS, so callers queue (waiting > 0) and the acquire
 * wait and query time charts move. One burst at a time per process; it is
 * bounded in time and concurrency. Resolves at once with the burst's state.
 */
export function startBurst(db) {
  const current = globalThis[BURST_KEY];
  if (current?.running) return { started: false, ...burstState() };
  const state = { running: true, startedAt: new Date().toISOString(), queries: 0, errors: 0 };
  globalThis[BURST_KEY] = state;
  const workers = Math.min(32, Math.max(4, db.status().maxConnections * 2));
  const deadline = Date.now() + BURST_MS;
  // MySQL stops recursive CTEs at 1000 rows by default (cte_max_recursion_depth).
  const maxRows = db.backend === "mysql" ? 900 : 20000;
  const sql =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT COUNT(*) AS n FROM c";
  async function worker() {
    while (Date.now() < deadline && !db.closed) {
      const rows = 100 + Math.floor(Math.random() * maxRows);
      try {
        await db.queryOne(sql, [rows]);
        state.queries += 1;
      } catch (err) {
        state.errors += 1;
        if (err.code === "POOL_CLOSED") return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  Promise.all(Array.from({ length: workers }, worker)).finally(() => {
    state.running = false;
  });
  return { started: true, ...burstState() };
}
