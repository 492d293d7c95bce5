// GET /health/detailed → the database check, a concurrency test, metrics and
// process figures. When HEALTH_TOKEN is set it needs `Authorization: Bearer <token>`
// (401 otherwise; or pass the token yourself: detailedHealthLoader(db, { token })); 503 when unhealthy.
import { detailedHealthLoader } from "shopify-db-pool";
import db from "../db.server";

export const loader = detailedHealthLoader(db);
