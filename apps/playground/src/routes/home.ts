import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { seedUsers } from '../db/migrate.js'

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

/**
 * The showcase: one page per instance, plain HTML and a plain script (public/showcase.js, no build
 * step), and a side-by-side page that shows every instance of this deployment in frames.
 */
const page = (instance: string, hasPeers: boolean) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@x playground — instance ${instance}</title>
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/showcase.css">
</head>
<body data-instance="${instance}">
<header>
  <h1>@x playground <span class="instance" aria-label="instance">instance ${instance}</span></h1>
  <p class="muted">Every panel below talks to this instance only. ${
    hasPeers
      ? '<a href="/side-by-side" target="_top">See every instance side by side</a> to watch them share Redis.'
      : 'Start a second instance on the same Redis to watch them share it.'
  }</p>
</header>
<main>
<section aria-labelledby="h-account" id="account">
  <h2 id="h-account">Sign in <small>@x/session</small></h2>
  <form id="login-form" class="row">
    <label for="login-email">User</label>
    <select id="login-email" name="email">${seedUsers
      .map((user) => `<option value="${user.email}">${escapeHtml(user.name)} (${user.email})</option>`)
      .join('')}</select>
    <label for="login-password">Password</label>
    <input id="login-password" name="password" type="password" value="playground" autocomplete="current-password">
    <label for="login-device">Device name</label>
    <input id="login-device" name="device" placeholder="e.g. laptop" maxlength="100">
    <button type="submit">Sign in</button>
  </form>
  <div id="signed-in" hidden>
    <p>Signed in as <strong id="me-name"></strong> <span class="muted" id="me-session"></span></p>
    <div class="row">
      <button type="button" id="logout">Sign out</button>
      <button type="button" id="rotate">Rotate my token</button>
      <button type="button" id="logout-others">Sign out every other device</button>
    </div>
    <h3>Your devices</h3>
    <ul id="sessions" class="list"></ul>
  </div>
  <p id="account-status" role="status" class="status"></p>
</section>

<section aria-labelledby="h-users" id="users-section">
  <h2 id="h-users">Users <small>@x/cache: cache-aside, tags, single-flight</small></h2>
  <p class="muted needs-session">Sign in to browse the users.</p>
  <table id="users" class="only-session">
    <caption class="muted">Each read says where it was answered: memory (L1), Redis, the database (miss), stale, or coalesced into another read.</caption>
    <thead><tr><th scope="col">User</th><th scope="col">E-mail</th><th scope="col">Last read</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
    <tbody></tbody>
  </table>
  <div class="row only-session">
    <button type="button" id="invalidate">Invalidate the tag "users" (every instance)</button>
  </div>
  <form id="stampede-form" class="row only-session">
    <label for="stampede-user">Stampede on</label>
    <select id="stampede-user">${seedUsers.map((user) => `<option value="${user.id}">${escapeHtml(user.name)}</option>`).join('')}</select>
    <label for="stampede-readers">concurrent cold reads</label>
    <input id="stampede-readers" type="number" min="1" max="500" value="50">
    <button type="submit">Stampede</button>
  </form>
  <p id="stampede-result" role="status" class="status"></p>
</section>

<section aria-labelledby="h-limits" id="limits-section">
  <h2 id="h-limits">Rate limits <small>@x/ratelimit</small></h2>
  <div id="budgets" aria-live="off"></div>
  <div class="row">
    <label for="burst-size">Requests</label>
    <input id="burst-size" type="number" min="1" max="500" value="40">
    <button type="button" id="burst">Send them now</button>
  </div>
  <p id="burst-result" role="status" class="status"></p>
</section>

<section aria-labelledby="h-jobs" id="jobs-section">
  <h2 id="h-jobs">Jobs <small>@x/lock: a fenced lock the database checks</small></h2>
  <p class="muted needs-session">Sign in to run jobs.</p>
  <form id="job-form" class="row only-session">
    <label for="job-id">Job</label>
    <select id="job-id"><option>nightly-report</option><option>reindex</option><option>send-digest</option></select>
    <label for="job-work">work (ms)</label>
    <input id="job-work" type="number" min="0" max="30000" value="3000">
    <button type="submit">Run on instance ${instance}</button>
  </form>
  <p id="job-result" role="status" class="status"></p>
  <p id="lock-state" class="muted"></p>
  <h3>Runs on every instance, live</h3>
  <ol id="job-log" class="list log"></ol>
</section>

<section aria-labelledby="h-messages" id="messages-section">
  <h2 id="h-messages">Messages <small>@x/pubsub</small> <span id="stream-status" class="muted">connecting…</span></h2>
  <form id="message-form" class="row">
    <label for="message-body">Message</label>
    <input id="message-body" maxlength="1000" required placeholder="hello from instance ${instance}">
    <button type="submit">Send</button>
  </form>
  <ul id="messages" class="list log" aria-live="polite"></ul>
</section>

<section aria-labelledby="h-charts" id="charts-section">
  <h2 id="h-charts">Live counters <small>this process, from <a href="/metrics">/metrics</a> (OpenTelemetry)</small></h2>
  <div class="charts">
    <figure><figcaption>Cache reads by outcome (% of reads)</figcaption>
      <div id="chart-cache" class="chart" role="img" aria-label="Share of cache reads by outcome: hit-l1, hit-l2, miss, stale, coalesced, fail-safe"></div></figure>
    <figure><figcaption>Rate-limit decisions per second</figcaption>
      <div id="chart-limits" class="chart" role="img" aria-label="Rate-limit decisions per second by outcome"></div></figure>
    <figure><figcaption>Lock waits per second, mean wait</figcaption>
      <div id="chart-locks" class="chart" role="img" aria-label="Lock waits per second by outcome, and the mean wait in milliseconds"></div></figure>
  </div>
  <dl id="metrics-totals" class="totals">
    <dt>cache reads</dt><dd id="totals-cache">…</dd>
    <dt>rate-limit decisions</dt><dd id="totals-ratelimit">…</dd>
    <dt>lock waits</dt><dd id="totals-lock">…</dd>
    <dt>sessions</dt><dd id="totals-session">…</dd>
    <dt>spans</dt><dd id="totals-spans">…</dd>
  </dl>
  <h3>Latest spans</h3>
  <ol id="recent-spans" class="list log"></ol>
</section>
</main>
<script src="/assets/uplot.js"></script>
<script src="/assets/showcase.js" type="module"></script>
</body>
</html>`

const sideBySide = (urls: string[]) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@x playground — side by side</title>
<link rel="stylesheet" href="/assets/showcase.css">
</head>
<body class="side-by-side">
<h1>@x playground: ${urls.length} instances, one Redis, one database</h1>
<p class="muted">The session cookie belongs to the host, so signing in on one instance signs you in on all of them.</p>
<div class="frames">${urls
  .map(
    (url, index) =>
      `<iframe src="${escapeHtml(url)}/" title="instance ${String.fromCharCode(65 + index)} at ${escapeHtml(url)}"></iframe>`,
  )
  .join('')}</div>
</body>
</html>`

export function homeRoutes() {
  return new Hono<AppEnv>()
    .get('/', (c) => {
      const { instanceId, config } = c.var.services
      // Only this deployment's side-by-side page may frame it (no clickjacking from other sites).
      const origins = config.peerUrls.map((url) => new URL(url).origin).join(' ')
      c.header('Content-Security-Policy', `frame-ancestors 'self' ${origins}`.trim())
      return c.html(page(escapeHtml(instanceId), config.peerUrls.length > 1))
    })
    .get('/favicon.ico', (c) => c.body(null, 204))
    .get('/side-by-side', (c) => c.html(sideBySide(c.var.services.config.peerUrls)))
}
