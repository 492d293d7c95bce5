// Replaces the template's hand-written /health/database route.
// GET /health/database → 200 { status: "healthy" | "degraded", connection_time_ms,
// database_type, pool_info, error, checked_at }; 503 when the database is unhealthy.
import { databaseHealthLoader } from "shopify-db-pool";
import db from "../db.server";

export const loader = databaseHealthLoader(db);
