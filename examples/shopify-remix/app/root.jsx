import { Links, Meta, Outlet, Scripts, ScrollRestoration } from "@remix-run/react";

export const meta = () => [{ title: "shopify-db-pool · Remix example" }];

// No favicon file: an empty one keeps browsers from asking for /favicon.ico.
export const links = () => [{ rel: "icon", href: "data:," }];

export default function App() {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body style={{ fontFamily: "system-ui, sans-serif", margin: 0, background: "#f6f6f7", color: "#202223" }}>
        <Outlet />
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}
