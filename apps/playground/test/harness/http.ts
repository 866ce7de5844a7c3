import type { AppProcess } from './app-process.js'

/** POST/PUT with a JSON body. */
export function sendJson(
  app: AppProcess,
  method: 'POST' | 'PUT',
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.fetch(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

/** Signs in through `app` and returns the session cookie ("name=value") to send as `cookie`. */
export async function login(app: AppProcess, email: string, password = 'playground'): Promise<string> {
  const response = await sendJson(app, 'POST', '/login', { email, password })
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`)
  const setCookie = response.headers.get('set-cookie')
  if (!setCookie) throw new Error('login answered without a Set-Cookie header')
  return setCookie.split(';')[0]!
}
