import { vitePlugin as remix } from "@remix-run/dev";
import { defineConfig } from "vite";

export default defineConfig({
  server: { port: Number(process.env.PORT) || 3000 },
  plugins: [
    remix({
      ignoredRouteFiles: ["**/.*"],
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_lazyRouteDiscovery: true,
        v3_singleFetch: true,
      },
    }),
  ],
  // shopify-db-pool is a native addon (a .node file) loaded by Node at run
  // time: never bundle it, never pre-bundle it for the browser. Installed
  // with "file:../.." it is a symlink out of node_modules, which Vite would
  // otherwise treat as source code to transform.
  ssr: { external: ["shopify-db-pool"] },
  // (The dashboard imports server-only helpers from shopify.server.js; keep
  // the dev server from pre-bundling Shopify's server packages for the browser.)
  optimizeDeps: { exclude: ["shopify-db-pool", "@shopify/shopify-app-remix"] },
});
