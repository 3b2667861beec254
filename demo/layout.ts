// The page frame shared by both demo tools: document head, site header with sign-in state, main
// landmark, and the page's own static script. Node only (server-rendered pages).
import type { SafeHtml } from './html';
import { html } from './html';

export interface SiteInfo {
  name: string;
  nav: ReadonlyArray<{ href: string; label: string }>;
}

export interface PageOptions {
  site: SiteInfo;
  title: string;
  /** Who is signed in (shown with a sign-out button), or null on the sign-in page. */
  who: string | null;
  main: SafeHtml;
  /** A static script under /static/ (CSP allows only the tool's own scripts). */
  script?: string;
}

export function renderPage(o: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${o.site.name}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/demo.css">
${o.script ? html`<script type="module" src="/static/${o.script}"></script>` : ''}
</head>
<body>
<header class="site">
<a class="brand" href="/">${o.site.name}</a>
<nav aria-label="${o.site.name}">${o.site.nav.map((l) => html`<a href="${l.href}">${l.label}</a>`)}</nav>
${o.who !== null
    ? html`<form class="signout" method="post" action="/logout"><span>Signed in as <strong>${o.who}</strong></span> <button type="submit">Sign out</button></form>`
    : ''}
</header>
<main id="main">
${o.main}
</main>
</body>
</html>
`.value;
}
