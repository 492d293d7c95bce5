// GET /metrics → Prometheus text exposition of the pool's metrics.
// Protected by HEALTH_TOKEN (Bearer), read per request, when it is set
// (or pass the token yourself: metricsLoader(db, { token })).
import { metricsLoader } from "shopify-db-pool";
import db from "../db.server";

export const loader = metricsLoader(db);
