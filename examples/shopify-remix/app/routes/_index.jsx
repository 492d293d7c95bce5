// The dashboard: the pool live. Status figures and charts of acquire wait and
// query time (p50 / p99 per 2 s interval, last 5 minutes), refreshed every
// ~2 s from /api/pool without reloading the page. Every figure carries a
// data-testid so tests (and you, in devtools) can read it.
import { useCallback, useEffect, useRef, useState } from "react";
import { useLoaderData } from "@remix-run/react";
import db from "../db.server";
import { poolSnapshot } from "../pool-monitor.server";
import { sessionStorageInfo } from "../shopify.server";

export const meta = () => [{ title: "shopify-db-pool · live pool" }];

export const loader = async () => {
  return { snapshot: poolSnapshot(db), sessions: await sessionStorageInfo(), pid: process.pid };
};

const REFRESH_MS = 2000;

export default function Dashboard() {
  const initial = useLoaderData();
  const [snapshot, setSnapshot] = useState(initial.snapshot);
  const [refreshes, setRefreshes] = useState(0);
  const [pollError, setPollError] = useState(null);
  const [burstMessage, setBurstMessage] = useState(null);
  const mounted = useRef(true);

  const refresh = useCallback(async () => {
    try {
      const res = await fetch("/api/pool", { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const next = await res.json();
      if (!mounted.current) return;
      setSnapshot(next);
      setRefreshes((n) => n + 1);
      setPollError(null);
    } catch (err) {
      if (mounted.current) setPollError(String(err.message || err));
    }
  }, []);

  useEffect(() => {
    mounted.current = true;
    const timer = setInterval(refresh, REFRESH_MS);
    return () => {
      mounted.current = false;
      clearInterval(timer);
    };
  }, [refresh]);

  async function runBurst() {
    setBurstMessage("starting…");
    try {
      const res = await fetch("/api/pool", { method: "POST" });
      const body = await res.json();
      setBurstMessage(
        res.status === 202 ? null : body.error || (res.status === 409 ? "a burst is already running" : `HTTP ${res.status}`),
      );
    } catch (err) {
      setBurstMessage(String(err.message || err));
    }
    refresh();
  }

  const { status, metrics, history, backend } = snapshot;
  const now = Date.parse(snapshot.at);
  const burstRunning = snapshot.burst?.running;

  return (
    <main style={{ maxWidth: 1180, margin: "0 auto", padding: "24px 20px" }}>
      <header style={{ display: "flex", alignItems: "baseline", gap: 16, flexWrap: "wrap" }}>
        <h1 style={{ margin: 0, fontSize: 24 }}>shopify-db-pool</h1>
        <span style={{ color: "#6d7175" }}>
          backend <b data-testid="pool-backend">{backend}</b> · pid {initial.pid} · updated{" "}
          <time data-testid="updated-at" dateTime={snapshot.at}>
            {snapshot.at.slice(11, 19)}
          </time>{" "}
          · refreshes <span data-testid="refresh-count">{refreshes}</span>
          {pollError ? (
            <span data-testid="poll-error" style={{ color: "#d72c0d" }}>
              {" "}
              · polling failed: {pollError}
            </span>
          ) : null}
        </span>
      </header>

      <section style={grid(6)} aria-label="pool status">
        <Figure label="open connections" testId="pool-size" value={status.size} />
        <Figure label="idle" testId="pool-idle" value={status.idle} />
        <Figure label="in use" testId="pool-in-use" value={status.inUse} />
        <Figure label="waiting" testId="pool-waiting" value={status.waiting} warn={status.waiting > 0} />
        <Figure label="max connections" testId="pool-max" value={status.maxConnections} />
        <Figure label="state" testId="pool-state" value={status.closed ? "closed" : "open"} warn={status.closed} />
      </section>

      <section style={grid(6)} aria-label="pool metrics">
        <Figure label="queries" testId="queries-total" value={metrics.queriesTotal} />
        <Figure label="errors" testId="errors-total" value={metrics.errorsTotal} warn={metrics.errorsTotal > 0} />
        <Figure label="acquire timeouts" testId="acquire-timeouts" value={metrics.acquireTimeouts} warn={metrics.acquireTimeouts > 0} />
        <Figure label="connections opened" testId="connections-created" value={metrics.connectionsCreated} />
        <Figure label="acquire wait p50 / p99 (ms)" testId="acquire-wait" value={`${fmtMs(metrics.acquireWaitMs.p50)} / ${fmtMs(metrics.acquireWaitMs.p99)}`} />
        <Figure label="query time p50 / p99 (ms)" testId="query-time" value={`${fmtMs(metrics.queryTimeMs.p50)} / ${fmtMs(metrics.queryTimeMs.p99)}`} />
      </section>

      <section style={{ ...grid(2), gridTemplateColumns: "repeat(auto-fit, minmax(420px, 1fr))" }}>
        <Chart title="Acquire wait (ms)" testId="chart-acquire" points={history} series="acquire" now={now} windowMs={snapshot.historyMs} />
        <Chart title="Query time (ms)" testId="chart-query" points={history} series="query" now={now} windowMs={snapshot.historyMs} />
        <Chart title="Connections" testId="chart-connections" points={history} now={now} windowMs={snapshot.historyMs} lines={CONNECTION_LINES} fmt={fmtCount} />
        <Chart title="Queries per interval" testId="chart-throughput" points={history} now={now} windowMs={snapshot.historyMs} lines={THROUGHPUT_LINES} fmt={fmtCount} />
      </section>

      <section style={{ ...card, marginTop: 16, display: "flex", gap: 16, alignItems: "center", flexWrap: "wrap" }}>
        <button
          type="button"
          data-testid="burst-button"
          onClick={runBurst}
          disabled={burstRunning}
          style={{ padding: "8px 14px", borderRadius: 8, border: "1px solid #8c9196", background: burstRunning ? "#e4e5e7" : "#008060", color: burstRunning ? "#6d7175" : "white", cursor: burstRunning ? "default" : "pointer" }}
        >
          {burstRunning ? "Burst running…" : "Run a burst of queries"}
        </button>
        <span data-testid="burst-state" data-running={burstRunning ? "true" : "false"} style={{ color: "#6d7175" }}>
          {burstMessage ??
            (burstRunning
              ? `running: ${snapshot.burst.queries} queries so far`
              : snapshot.burst?.startedAt
                ? `last burst: ${snapshot.burst.queries} queries, ${snapshot.burst.errors} errors`
                : "6 s of recursive-CTE queries from twice as many callers as the pool has connections")}
        </span>
      </section>

      <section style={{ ...card, marginTop: 16 }} aria-label="session storage">
        <h2 style={h2}>Session storage</h2>
        <p style={{ margin: 0 }} data-testid="session-storage">
          PoolSessionStorage on the <code>Session</code> table:{" "}
          {initial.sessions.ready ? <b>ready</b> : <b style={{ color: "#d72c0d" }}>not ready</b>}
          {initial.sessions.sessions !== null ? `, ${initial.sessions.sessions} session(s)` : ""}
          {initial.sessions.error ? ` (${initial.sessions.error})` : ""}
          {" · "}
          {initial.sessions.shopifyConfigured
            ? "shopifyApp() is configured from SHOPIFY_API_KEY / SHOPIFY_API_SECRET"
            : "shopifyApp() is not configured (set SHOPIFY_API_KEY and SHOPIFY_API_SECRET, or run `shopify app dev`)"}
        </p>
      </section>

      <section style={{ ...card, marginTop: 16 }} aria-label="routes">
        <h2 style={h2}>Routes</h2>
        <ul style={{ margin: 0, paddingLeft: 20, lineHeight: 1.7 }}>
          <li><a href="/health/database">/health/database</a>: the database check (503 when unhealthy)</li>
          <li><a href="/health/detailed">/health/detailed</a>: check, concurrency test, metrics, process (Bearer HEALTH_TOKEN when set)</li>
          <li><a href="/metrics">/metrics</a>: Prometheus text (Bearer HEALTH_TOKEN when set)</li>
          <li><code>POST /maintenance</code>: expired-session cleanup and idle-connection reaping (Bearer HEALTH_TOKEN when set)</li>
          <li><a href="/api/pool">/api/pool</a>: what this page polls</li>
        </ul>
      </section>
    </main>
  );
}

const CONNECTION_LINES = [
  { key: "size", label: "open", color: "#2c6ecb", get: (p) => p.size },
  { key: "inUse", label: "in use", color: "#008060", get: (p) => p.inUse },
  { key: "waiting", label: "waiting", color: "#d72c0d", get: (p) => p.waiting },
];
const THROUGHPUT_LINES = [
  { key: "queries", label: "queries", color: "#2c6ecb", get: (p) => p.queries },
  { key: "errors", label: "errors", color: "#d72c0d", get: (p) => p.errors },
];
const latencyLines = (series) => [
  { key: "p50", label: "p50", color: "#2c6ecb", get: (p) => p[series]?.p50 },
  { key: "p99", label: "p99", color: "#d72c0d", get: (p) => p[series]?.p99 },
];

function Chart({ title, testId, points, series, lines = latencyLines(series), now, windowMs, fmt = fmtMs }) {
  const W = 520;
  const H = 170;
  const pad = { l: 48, r: 12, t: 10, b: 22 };
  // The x axis spans the history there is: at least a minute, at most windowMs.
  const visible = points.filter((p) => p.t >= now - windowMs);
  const span = Math.min(windowMs, Math.max(60000, visible.length ? now - visible[0].t : 0));
  const from = now - span;
  let max = 0;
  for (const p of visible) for (const line of lines) max = Math.max(max, line.get(p) ?? 0);
  max = niceMax(max);
  const x = (t) => pad.l + ((t - from) / span) * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  // The newest value of each line (an interval without queries has none).
  const latest = (line) => {
    for (let i = visible.length - 1; i >= 0; i--) {
      const v = line.get(visible[i]);
      if (v !== null && v !== undefined) return v;
    }
    return null;
  };

  return (
    <figure style={{ ...card, margin: 0 }}>
      <figcaption style={{ display: "flex", justifyContent: "space-between", gap: 12, fontSize: 14 }}>
        <b>{title}</b>
        <span>
          {lines.map((line) => (
            <span key={line.key} style={{ color: line.color, marginLeft: 10 }} data-testid={`${testId}-latest-${line.key}`}>
              {line.label} {fmt(latest(line))}
            </span>
          ))}
        </span>
      </figcaption>
      <svg
        data-testid={testId}
        data-points={visible.length}
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        role="img"
        aria-label={`${title}, last ${Math.round(windowMs / 60000)} minutes`}
        style={{ display: "block" }}
      >
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={pad.l} x2={W - pad.r} y1={y(max * f)} y2={y(max * f)} stroke="#e1e3e5" />
            <text x={pad.l - 6} y={y(max * f) + 4} fontSize="11" textAnchor="end" fill="#6d7175">
              {fmt(max * f)}
            </text>
          </g>
        ))}
        <text x={pad.l} y={H - 6} fontSize="11" fill="#6d7175">
          −{span >= 120000 ? `${Math.round(span / 60000)} min` : `${Math.round(span / 1000)} s`}
        </text>
        <text x={W - pad.r} y={H - 6} fontSize="11" fill="#6d7175" textAnchor="end">
          now
        </text>
        {lines.map((line) =>
          segments(visible, line.get).map((seg, i) =>
            seg.length === 1 ? (
              <circle key={`${line.key}-${i}`} cx={x(seg[0].t)} cy={y(seg[0].v)} r="2" fill={line.color} />
            ) : (
              <polyline
                key={`${line.key}-${i}`}
                data-series={line.key}
                fill="none"
                stroke={line.color}
                strokeWidth="1.8"
                strokeLinejoin="round"
                points={seg.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")}
              />
            ),
          ),
        )}
        {visible.length === 0 ? (
          <text x={W / 2} y={H / 2} fontSize="12" textAnchor="middle" fill="#8c9196">
            collecting samples…
          </text>
        ) : null}
      </svg>
    </figure>
  );
}

/** Runs of consecutive points that have a value (an interval without queries is a gap). */
function segments(points, get) {
  const out = [];
  let run = [];
  for (const p of points) {
    const v = get(p);
    if (v === null || v === undefined || !Number.isFinite(v)) {
      if (run.length) out.push(run);
      run = [];
    } else {
      run.push({ t: p.t, v });
    }
  }
  if (run.length) out.push(run);
  return out;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * exp) return m * exp;
  return 10 * exp;
}

function fmtMs(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v === 0) return "0";
  if (Math.abs(v) < 1) return v.toFixed(3);
  if (Math.abs(v) < 100) return v.toFixed(2);
  return v.toFixed(0);
}

function fmtCount(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function Figure({ label, value, testId, warn }) {
  return (
    <div style={card}>
      <div style={{ fontSize: 12, color: "#6d7175" }}>{label}</div>
      <div data-testid={testId} style={{ fontSize: 22, fontWeight: 600, color: warn ? "#d72c0d" : "#202223", fontVariantNumeric: "tabular-nums" }}>
        {value}
      </div>
    </div>
  );
}

const card = { background: "white", borderRadius: 12, padding: "12px 14px", boxShadow: "0 1px 2px rgba(0,0,0,.08)" };
const h2 = { fontSize: 16, margin: "0 0 8px" };
function grid(n) {
  return { display: "grid", gridTemplateColumns: `repeat(auto-fit, minmax(${Math.floor(1100 / n) - 20}px, 1fr))`, gap: 12, marginTop: 16 };
}
