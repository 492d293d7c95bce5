// GET  /api/pool → JSON: the pool's status and metrics now, and the sampled
//                  history the dashboard charts (polled every ~2 s).
// POST /api/pool → starts a short, bounded burst of queries (the dashboard's
//                  button) and answers 202 with its state; 409 while one runs,
//                  403 when POOL_DEMO_BURST=0.
//
// This is a demo route: in a real app, put it behind authenticate.admin()
// (or HEALTH_TOKEN) like /health/detailed and /metrics.
import db from "../db.server";
import { burstEnabled, poolSnapshot, startBurst } from "../pool-monitor.server";

const HEADERS = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" };

export const loader = async () => new Response(JSON.stringify(poolSnapshot(db)), { headers: HEADERS });

export const action = async ({ request }) => {
  if (request.method !== "POST") {
    return new Response(JSON.stringify({ error: "method not allowed" }), {
      status: 405,
      headers: { ...HEADERS, Allow: "GET, POST" },
    });
  }
  if (!burstEnabled) {
    return new Response(JSON.stringify({ error: "bursts are turned off (POOL_DEMO_BURST=0)" }), {
      status: 403,
      headers: HEADERS,
    });
  }
  const burst = startBurst(db);
  return new Response(JSON.stringify({ burst }), { status: burst.started ? 202 : 409, headers: HEADERS });
};
