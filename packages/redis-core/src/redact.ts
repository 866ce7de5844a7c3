const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)@/gi
// AUTH and HELLO … AUTH take a username and/or a password: hide the (up to) two tokens after the
// keyword, whether they appear as `AUTH user pw`, `"AUTH" "user" "pw"` or `'AUTH', 'user', 'pw'`.
const AUTH_ARGUMENTS = /(\bAUTH\b['"]?)((?:[\s,]+(?:'[^']*'|"[^"]*"|[^\s,'"\])}]+)){1,2})/gi
// Server settings that hold a secret (`requirepass x`, `CONFIG SET masterauth x`) and key=value text
// (`password=x`, `"password": "x"`); a bare "password" in prose is left alone.
const SECRET_SETTING = /\b(requirepass|masterauth)(['"]?[\s,:=]+['"]?)([^\s'",})\]]+)/gi
const SECRET_PAIR = /\b(pass(?:word)?|secret)(['"]?\s*[:=]\s*['"]?)([^\s'",&})\]]+)/gi
const MAY_HOLD_SECRET = /@|auth|pass|secret/i

/**
 * Removes what must never reach a log: the password (and user) of a `scheme://user:password@host`
 * URL, the arguments of AUTH and HELLO … AUTH, and `requirepass`/`masterauth`/`password=` values.
 * It errs on the side of hiding too much; it runs on error paths only.
 */
export function redact(text: string): string {
  // One scan decides for the common case: most error texts hold none of these words.
  if (!MAY_HOLD_SECRET.test(text)) return text
  return text
    .replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':')
      return colon === -1 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`
    })
    .replace(AUTH_ARGUMENTS, '$1 ***')
    .replace(SECRET_SETTING, '$1$2***')
    .replace(SECRET_PAIR, '$1$2***')
}

/**
 * Scrubs an error in place, with its `cause` chain and, for a Cluster's summary error, its
 * `lastNodeError`: the message and stack go through `redact`, and the arguments ioredis attaches as
 * `error.command.args` (AUTH passwords, values) are dropped, keeping the command's name. In place,
 * so that every holder of the error (other 'error' listeners, a rejected command) sees it clean.
 * Idempotent and cheap on a clean error, so it can run on every error of a busy error path.
 */
export function redactError(error: Error, depth = 0): Error {
  const message = redact(error.message)
  // The stack repeats the message; its frames hold no secrets. Reading `stack` makes V8 format it,
  // so it is left alone when the message was clean.
  if (message !== error.message) {
    const stack = error.stack
    error.message = message
    if (typeof stack === 'string') error.stack = redact(stack)
  }
  const record = error as Error & { command?: { name?: unknown; args?: unknown }; lastNodeError?: unknown }
  if (record.command && typeof record.command === 'object' && record.command.args !== undefined) {
    record.command = { name: record.command.name }
  }
  // Bounded: a cause chain can be cyclic.
  if (depth < 8) {
    if (error.cause instanceof Error) redactError(error.cause, depth + 1)
    if (record.lastNodeError instanceof Error) redactError(record.lastNodeError, depth + 1)
  }
  return error
}
