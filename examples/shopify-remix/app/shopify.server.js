// The Shopify template's app/shopify.server.js with one line changed:
//
//   - sessionStorage: new PrismaSessionStorage(prisma),
//   + sessionStorage: new PoolSessionStorage(db),
//
// Same database, same "Session" table, rows read and written exactly as
// Prisma does: no migration, no lost sessions.
//
// This example also runs without Shopify credentials (it is a demo of the
// pool): shopifyApp() is only called when SHOPIFY_API_KEY and
// SHOPIFY_API_SECRET are set (as `shopify app dev` does); otherwise `shopify`
// is null and the session storage is still there for the dashboard to use.
import "@shopify/shopify-app-remix/adapters/node";
import { ApiVersion, AppDistribution, shopifyApp } from "@shopify/shopify-app-remix/server";
import { PoolSessionStorage } from "shopify-db-pool";
import db, { ensureSessionTable } from "./db.server";

export const sessionStorage = new PoolSessionStorage(db);

export const shopifyConfigured = Boolean(process.env.SHOPIFY_API_KEY && process.env.SHOPIFY_API_SECRET);

const shopify = shopifyConfigured
  ? shopifyApp({
      apiKey: process.env.SHOPIFY_API_KEY,
      apiSecretKey: process.env.SHOPIFY_API_SECRET || "",
      apiVersion: ApiVersion.July25,
      scopes: process.env.SCOPES?.split(","),
      appUrl: process.env.SHOPIFY_APP_URL || "",
      authPathPrefix: "/auth",
      sessionStorage,
      distribution: AppDistribution.AppStore,
      future: { unstable_newEmbeddedAuthStrategy: true, expiringOfflineAccessTokens: true },
      ...(process.env.SHOP_CUSTOM_DOMAIN ? { customShopDomains: [process.env.SHOP_CUSTOM_DOMAIN] } : {}),
    })
  : null;

export default shopify;
export const apiVersion = ApiVersion.July25;
export const addDocumentResponseHeaders = shopify?.addDocumentResponseHeaders;
export const authenticate = shopify?.authenticate;
export const unauthenticated = shopify?.unauthenticated;
export const login = shopify?.login;
export const registerWebhooks = shopify?.registerWebhooks;

/**
 * What the dashboard shows about session storage: whether the Session table
 * answers through PoolSessionStorage, and how many sessions it holds.
 */
export async function sessionStorageInfo() {
  try {
    await ensureSessionTable();
    const ready = await sessionStorage.isReady();
    const row = await db.queryOne('SELECT COUNT(*) AS n FROM "Session"'.replaceAll('"', db.backend === "mysql" ? "`" : '"'));
    return { ready: Boolean(ready), sessions: Number(row?.n ?? 0), shopifyConfigured, error: null };
  } catch (err) {
    return { ready: false, sessions: null, shopifyConfigured, error: `${err.code ?? "ERROR"}: ${err.message}` };
  }
}
