// POST /maintenance → deletes expired Shopify sessions and closes stale idle
// connections, and reports what it did (for a cron job; other methods: 405).
// Protected by HEALTH_TOKEN (Bearer), read per request, when it is set
// (or pass the token yourself: maintenanceAction(db, { token })).
import { maintenanceAction } from "shopify-db-pool";
import db from "../db.server";

const maintenance = maintenanceAction(db);

export const action = maintenance;
// A GET reaches the loader: let the action answer it (405 Method Not Allowed).
export const loader = maintenance;
