// The showcase page's script: plain browser JavaScript, served as is (no build step). It talks to
// the instance that served the page, and hears every instance through the /events stream.

const $ = (selector) => document.querySelector(selector)
const instance = document.body.dataset.instance

/** fetch() that never throws: { status, ok, body (parsed JSON or null), headers }. */
async function api(path, init = {}) {
  const headers = { ...(init.headers ?? {}) }
  if (init.json !== undefined) headers['content-type'] = 'application/json'
  try {
    const response = await fetch(path, {
      ...init,
      headers,
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    })
    const text = await response.text()
    let body = null
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      body = null
    }
    return { status: response.status, ok: response.ok, body, headers: response.headers }
  } catch (error) {
    return { status: 0, ok: false, body: { detail: String(error) }, headers: new Headers() }
  }
}

const problem = (result) => `${result.status} ${result.body?.detail ?? result.body?.title ?? ''}`.trim()
const time = (iso) => new Date(iso).toLocaleTimeString()
function say(selector, text, refused = false) {
  const element = $(selector)
  element.textContent = text
  element.classList.toggle('refused', refused)
}
function item(text, className) {
  const li = document.createElement('li')
  li.textContent = text
  if (className) li.className = className
  return li
}

// ---- account (@x/session) ---------------------------------------------------------------------

let me = null

async function refreshAccount() {
  const result = await api('/me')
  if (result.status === 429) return // keep what is shown; the budget will refill
  me = result.ok ? result.body : null
  document.body.classList.toggle('signed-in', me !== null)
  document.body.classList.toggle('signed-out', me === null)
  $('#login-form').hidden = me !== null
  $('#signed-in').hidden = me === null
  if (!me) {
    $('#sessions').replaceChildren()
    return
  }
  $('#me-name').textContent = `${me.user.name} (${me.user.email})`
  $('#me-session').textContent = `since ${time(me.session.createdAt)}`
  await Promise.all([refreshSessions(), refreshUsers()])
}

async function refreshSessions() {
  const result = await api('/sessions')
  if (!result.ok) return
  const rows = result.body.sessions.map((session) => {
    const li = document.createElement('li')
    const label = session.device.label ? `${session.device.label} — ` : ''
    li.append(
      `${label}${session.device.userAgent.slice(0, 60)} · ${session.device.ip} · last seen ${time(session.lastSeen)} `,
    )
    if (session.current) {
      li.append(Object.assign(document.createElement('strong'), { textContent: '(this device)' }))
    } else {
      const revoke = Object.assign(document.createElement('button'), {
        type: 'button',
        className: 'secondary revoke',
        textContent: 'Revoke',
      })
      revoke.setAttribute(
        'aria-label',
        `Revoke the session on ${label || session.device.userAgent.slice(0, 40)}`,
      )
      revoke.addEventListener('click', async () => {
        const done = await api(`/sessions/${encodeURIComponent(session.id)}`, { method: 'DELETE' })
        say(
          '#account-status',
          done.ok ? 'Session revoked: that device is signed out.' : problem(done),
          !done.ok,
        )
        await refreshSessions()
      })
      li.append(revoke)
    }
    return li
  })
  $('#sessions').replaceChildren(...rows)
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const result = await api('/login', {
    method: 'POST',
    json: {
      email: $('#login-email').value,
      password: $('#login-password').value,
      ...($('#login-device').value ? { device: $('#login-device').value } : {}),
    },
  })
  say('#account-status', result.ok ? 'Signed in.' : problem(result), !result.ok)
  await refreshAccount()
})
$('#logout').addEventListener('click', async () => {
  await api('/logout', { method: 'POST' })
  say('#account-status', 'Signed out.')
  await refreshAccount()
})
$('#rotate').addEventListener('click', async () => {
  const result = await api('/rotate', { method: 'POST' })
  say(
    '#account-status',
    result.ok ? 'New token issued; the old one works read-only for a few seconds.' : problem(result),
  )
})
$('#logout-others').addEventListener('click', async () => {
  const result = await api('/logout-all', { method: 'POST' })
  say(
    '#account-status',
    result.ok ? `Signed out ${result.body.ended} other device(s).` : problem(result),
    !result.ok,
  )
  await refreshSessions()
})

// ---- users (@x/cache) -------------------------------------------------------------------------

const lastOutcome = new Map()

async function refreshUsers() {
  if (!me) return
  const result = await api('/users?ids=1,2,3,4,5,6,7,8')
  if (!result.ok) return
  const rows = result.body.users.map((user) => {
    const tr = document.createElement('tr')
    tr.dataset.userId = user.id
    const outcome = lastOutcome.get(user.id)
    const badge = Object.assign(document.createElement('span'), {
      className: `outcome outcome-${outcome ?? 'none'}`,
      textContent: outcome ?? '—',
    })
    const read = Object.assign(document.createElement('button'), {
      type: 'button',
      className: 'secondary',
      textContent: 'Read',
    })
    read.setAttribute('aria-label', `Read ${user.name} through the cache`)
    read.addEventListener('click', () => readUser(user.id))
    const cells = [user.name, user.email, badge, read].map((content) => {
      const td = document.createElement('td')
      td.append(content)
      return td
    })
    tr.append(...cells)
    return tr
  })
  $('#users tbody').replaceChildren(...rows)
}

async function readUser(id) {
  const result = await api(`/users/${id}`)
  lastOutcome.set(id, result.headers.get('x-cache') ?? String(result.status))
  await refreshUsers()
}

$('#invalidate').addEventListener('click', async () => {
  const result = await api('/users/cache', { method: 'DELETE' })
  say(
    '#stampede-result',
    result.ok
      ? 'Tag "users" invalidated: the next read of each user is a miss, on every instance.'
      : problem(result),
  )
})

$('#stampede-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const id = $('#stampede-user').value
  const readers = $('#stampede-readers').value
  say('#stampede-result', `${readers} concurrent reads…`)
  const result = await api(`/users/${id}/stampede?readers=${encodeURIComponent(readers)}`, { method: 'POST' })
  if (!result.ok) return say('#stampede-result', problem(result), true)
  const { databaseQueries, outcomes } = result.body
  const parts = Object.entries(outcomes).map(([outcome, count]) => `${count} ${outcome}`)
  $('#stampede-result').replaceChildren(
    `${result.body.readers} cold reads → `,
    Object.assign(document.createElement('strong'), {
      id: 'stampede-queries',
      textContent: `${databaseQueries} database ${databaseQueries === 1 ? 'query' : 'queries'}`,
    }),
    ` (${parts.join(', ')})`,
  )
})

// ---- rate limits (@x/ratelimit) ---------------------------------------------------------------

async function refreshBudgets() {
  const result = await api('/ratelimit')
  if (!result.ok) return
  const rows = []
  for (const [key, state] of Object.entries(result.body)) {
    if (!state) continue
    for (const policy of state.policies) {
      const row = document.createElement('div')
      row.className = 'budget'
      row.dataset.policy = policy.name
      const id = `budget-${policy.name}`
      const label = Object.assign(document.createElement('label'), { htmlFor: id })
      label.append(
        Object.assign(document.createElement('span'), { className: 'tag', textContent: policy.name }),
      )
      const bar = Object.assign(document.createElement('progress'), {
        id,
        max: policy.limit,
        value: policy.remaining,
      })
      const text = `${policy.remaining} / ${policy.limit} per ${Math.round(policy.windowMs / 1000)} s`
      row.append(label, bar, Object.assign(document.createElement('span'), { textContent: text }))
      rows.push(row)
    }
    void key
  }
  $('#budgets').replaceChildren(...rows)
}

$('#burst').addEventListener('click', async () => {
  const count = Math.max(1, Math.min(500, Number($('#burst-size').value) || 1))
  // Signed in, /me spends the user's budgets and the address's; signed out, only the address's.
  const path = me ? '/me' : '/messages'
  const results = await Promise.all(Array.from({ length: count }, () => api(path)))
  const refused = results.filter((result) => result.status === 429)
  const admitted = results.filter((result) => result.ok).length
  const retry = refused[0]?.headers.get('retry-after')
  say(
    '#burst-result',
    refused.length > 0
      ? `${admitted} admitted, ${refused.length} refused with 429 (limit "${refused[0].body?.limit}", retry after ${retry} s)`
      : `${admitted} admitted, none refused`,
    refused.length > 0,
  )
  await refreshBudgets()
})

// ---- jobs (@x/lock) ---------------------------------------------------------------------------

$('#job-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const job = $('#job-id').value
  const workMs = $('#job-work').value
  say('#job-result', `running ${job} on ${instance}…`)
  const result = await api(`/jobs/${job}/run?workMs=${encodeURIComponent(workMs)}`, { method: 'POST' })
  say(
    '#job-result',
    result.ok
      ? `${job} finished on ${result.body.instance} with fencing token ${result.body.fence} after waiting ${result.body.waitedMs} ms for the lock`
      : problem(result),
    !result.ok,
  )
  await refreshLock(job)
})

async function refreshLock(job) {
  if (!me) return
  const result = await api(`/jobs/${job}`)
  if (!result.ok) return
  const { lock, lastFence } = result.body
  $('#lock-state').textContent =
    `${job}: ${lock.locked ? `locked (fence ${lock.fence}, ${lock.ttlMs} ms left)` : 'free'} · last token the database accepted: ${lastFence}`
}

function showJob(event) {
  const waited = event.waitedMs === undefined ? '' : `, waited ${event.waitedMs} ms`
  const fence = event.fence > 0 ? ` fence ${event.fence}` : ''
  const li = item(
    `${new Date().toLocaleTimeString()} · ${event.instance} ${event.status} ${event.jobId}${fence}${waited}`,
  )
  li.dataset.instance = event.instance
  li.dataset.status = event.status
  $('#job-log').prepend(li)
  while ($('#job-log').children.length > 50) $('#job-log').lastChild.remove()
  void refreshLock(event.jobId)
}

// ---- messages (@x/pubsub) ---------------------------------------------------------------------

const shownMessages = new Set()
function showMessage(message) {
  if (shownMessages.has(message.id)) return
  shownMessages.add(message.id)
  // The time the message was stored (the server's), not when this page received it.
  const li = item(`${time(message.createdAt)} · ${message.author} via ${message.instance}: ${message.body}`)
  li.dataset.messageId = message.id
  li.dataset.instance = message.instance
  $('#messages').prepend(li)
  while ($('#messages').children.length > 50) $('#messages').lastChild.remove()
}

async function loadMessages() {
  const result = await api('/messages')
  if (!result.ok) return
  for (const message of [...result.body.messages].reverse()) showMessage(message)
}

$('#message-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $('#message-body')
  const result = await api('/messages', { method: 'POST', json: { body: input.value } })
  if (result.ok) input.value = ''
})

const source = new EventSource('/events')
source.addEventListener('ready', (event) => {
  $('#stream-status').textContent = `live via instance ${JSON.parse(event.data).instance}`
})
source.addEventListener('message', (event) => showMessage(JSON.parse(event.data)))
source.addEventListener('job', (event) => showJob(JSON.parse(event.data)))
source.addEventListener('user-updated', () => void refreshUsers())
source.addEventListener('resync', () => void loadMessages())
source.onerror = () => {
  $('#stream-status').textContent = 'reconnecting…'
}

// ---- live counters (uPlot, from the metrics) --------------------------------------------------

/**
 * GET /metrics/summary folds the same OpenTelemetry collection that GET /metrics serves into
 * cumulative counts by outcome; each chart shows what changed between two samples.
 */
const sum = (counts) => Object.values(counts).reduce((total, n) => total + n, 0)
const delta = (now, before, key) => (now[key] ?? 0) - (before[key] ?? 0)

const charts = [
  {
    element: '#chart-cache',
    label: 'Cache reads by outcome: share of the reads in each interval',
    axis: '% of reads',
    series: [
      ['hit-l1', '#15803d'],
      ['hit-l2', '#2563eb'],
      ['miss', '#b45309'],
      ['stale', '#7c3aed'],
      ['coalesced', '#0891b2'],
      ['fail-safe', '#b91c1c'],
    ].map(([outcome, stroke]) => ({
      label: outcome,
      stroke,
      // No read in the interval: a gap, not a 0 % hit ratio.
      read: (now, before) => {
        const reads = sum(now.cache) - sum(before.cache)
        return reads > 0 ? (100 * delta(now.cache, before.cache, outcome)) / reads : null
      },
    })),
  },
  {
    element: '#chart-limits',
    label: 'Rate-limit decisions per second, by outcome',
    axis: 'per second',
    series: [
      ['allowed', '#15803d'],
      ['limited', '#b91c1c'],
      ['fail-open', '#b45309'],
      ['fail-closed', '#7c3aed'],
    ].map(([outcome, stroke]) => ({
      label: outcome,
      stroke,
      read: (now, before, seconds) => delta(now.ratelimit, before.ratelimit, outcome) / seconds,
    })),
  },
  {
    element: '#chart-locks',
    label: 'Lock waits per second by outcome, and the mean wait',
    axis: 'per second',
    series: [
      {
        label: 'waits /s',
        stroke: '#15803d',
        read: (now, before, seconds) => (sum(now.lock.waits) - sum(before.lock.waits)) / seconds,
      },
      {
        label: 'timeouts /s',
        stroke: '#b91c1c',
        read: (now, before, seconds) => delta(now.lock.waits, before.lock.waits, 'timeout') / seconds,
      },
      {
        label: 'mean wait (ms)',
        stroke: '#2563eb',
        scale: 'ms',
        read: (now, before) => {
          const waits = sum(now.lock.waits) - sum(before.lock.waits)
          return waits > 0 ? (1000 * (now.lock.waitSeconds - before.lock.waitSeconds)) / waits : null
        },
      },
    ],
  },
]
const windowPoints = 120
for (const chart of charts) chart.data = [[], ...chart.series.map(() => [])]
let previous = null

function makeChart(chart) {
  const element = $(chart.element)
  const axes = [{}, { label: chart.axis }]
  if (chart.series.some((series) => series.scale === 'ms')) axes.push({ scale: 'ms', side: 1, label: 'ms' })
  return new uPlot(
    {
      width: Math.max(280, element.clientWidth),
      height: 200,
      series: [
        {},
        ...chart.series.map((series) => ({
          label: series.label,
          stroke: series.stroke,
          width: 2,
          ...(series.scale ? { scale: series.scale } : {}),
        })),
      ],
      axes,
    },
    chart.data,
    element,
  )
}

const counts = (byOutcome) =>
  Object.entries(byOutcome)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ') || 'none yet'

function showRecentSpans(spans) {
  $('#recent-spans').replaceChildren(
    ...spans.slice(0, 8).map((span) => {
      const item = document.createElement('li')
      const outcome = span.error ?? span.outcome
      item.textContent = `${span.name}${outcome ? ` → ${outcome}` : ''} · ${span.durationMs.toFixed(1)} ms`
      return item
    }),
  )
}

async function sampleMetrics() {
  const result = await api('/metrics/summary')
  if (!result.ok) return
  const now = result.body
  if (previous) {
    const seconds = Math.max(0.001, (now.time - previous.time) / 1000)
    for (const chart of charts) {
      chart.data[0].push(now.time / 1000)
      chart.series.forEach((series, index) => {
        chart.data[index + 1].push(series.read(now, previous, seconds))
      })
      if (chart.data[0].length > windowPoints) for (const column of chart.data) column.shift()
      chart.plot ??= makeChart(chart)
      chart.plot.setData(chart.data)
    }
  }
  previous = now
  $('#totals-cache').textContent = counts(now.cache)
  $('#totals-ratelimit').textContent = counts(now.ratelimit)
  $('#totals-lock').textContent = counts(now.lock.waits)
  $('#totals-session').textContent = counts(now.session)
  $('#totals-spans').textContent = String(now.spans)
  showRecentSpans(now.recentSpans)
}
window.addEventListener('resize', () => {
  for (const chart of charts) {
    chart.plot?.setSize({ width: Math.max(280, $(chart.element).clientWidth), height: 200 })
  }
})

// ---- start ------------------------------------------------------------------------------------

document.body.classList.add('signed-out')
await Promise.all([refreshAccount(), refreshBudgets(), loadMessages(), sampleMetrics()])
setInterval(refreshBudgets, 1000)
setInterval(sampleMetrics, 2000)
// Signing in or out on another instance (another tab or frame) shows here within seconds.
setInterval(refreshAccount, 5000)
window.addEventListener('focus', () => void refreshAccount())
