import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'

/** One page, plain HTML and JS: the latest events (live, over SSE) and the caller's rate-limit budgets. */
const page = (instance: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>@x playground</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 2rem; }
  table { border-collapse: collapse; } td, th { padding: .2rem .8rem .2rem 0; text-align: left; }
  #events li { font-family: ui-monospace, monospace; font-size: 13px; }
  .muted { color: #777; } form { display: flex; gap: .5rem; }
</style>
</head>
<body>
<h1>@x playground <span class="muted">— instance ${instance}</span></h1>
<p class="muted">Users are cached (@x/cache), sessions live in Redis (@x/session), every request is rate limited
(@x/ratelimit), jobs run under a fenced lock (@x/lock) and events arrive over pub/sub (@x/pubsub).</p>

<h2>Rate limits <span class="muted" id="rl-updated"></span></h2>
<table><thead><tr><th>key</th><th>policy</th><th>remaining</th><th>limit</th><th>window</th></tr></thead>
<tbody id="rl"></tbody></table>

<h2>Post a message</h2>
<form id="post"><input id="body" placeholder="hello from the browser" size="50" required><button>send</button></form>

<h2>Latest events <span class="muted" id="status">connecting…</span></h2>
<ul id="events"></ul>

<script>
const list = document.getElementById('events')
function show(kind, data) {
  const item = document.createElement('li')
  item.textContent = new Date().toLocaleTimeString() + '  ' + kind + '  ' + data
  list.prepend(item)
  while (list.children.length > 50) list.lastChild.remove()
}
async function history() {
  const response = await fetch('/messages')
  if (!response.ok) return
  const { messages } = await response.json()
  for (const message of messages.slice(0, 10).reverse()) show('message (stored)', JSON.stringify(message))
}
const source = new EventSource('/events')
source.addEventListener('ready', (event) => { document.getElementById('status').textContent = 'live via ' + JSON.parse(event.data).instance })
for (const kind of ['message', 'job', 'user-updated', 'rate-limited']) {
  source.addEventListener(kind, (event) => show(kind, event.data))
}
source.addEventListener('resync', () => { show('resync', 'pub/sub reconnected: reloading'); history() })
source.onerror = () => { document.getElementById('status').textContent = 'reconnecting…' }

async function limits() {
  const response = await fetch('/ratelimit')
  const rows = []
  if (response.ok) {
    const state = await response.json()
    for (const [key, value] of Object.entries(state)) {
      if (!value) continue
      for (const policy of value.policies) {
        rows.push('<tr><td>' + key + '</td><td>' + policy.name + '</td><td>' + policy.remaining + '</td><td>' +
          policy.limit + '</td><td>' + Math.round(policy.windowMs / 1000) + ' s</td></tr>')
      }
    }
  }
  document.getElementById('rl').innerHTML = rows.join('')
  document.getElementById('rl-updated').textContent = response.ok ? '' : '(' + response.status + ')'
}
document.getElementById('post').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = document.getElementById('body')
  await fetch('/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body: input.value }) })
  input.value = ''
  limits()
})
history()
limits()
setInterval(limits, 3000)
</script>
</body>
</html>`

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

export function homeRoutes() {
  return new Hono<AppEnv>().get('/', (c) => c.html(page(escapeHtml(c.var.services.instanceId))))
}
