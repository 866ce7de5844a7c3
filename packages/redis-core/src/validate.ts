import { InvalidArgumentError } from './errors.js'

/** Throws unless `value` is a finite number > 0 (or >= 0 with `allowZero`). */
export function assertPositive(
  name: string,
  value: unknown,
  options: { allowZero?: boolean; integer?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number, got ${describe(value)}`)
  }
  if (options.allowZero ? value < 0 : value <= 0) {
    throw new InvalidArgumentError(`${name} must be ${options.allowZero ? '>= 0' : '> 0'}, got ${value}`)
  }
  if (options.integer && !Number.isInteger(value)) {
    throw new InvalidArgumentError(`${name} must be an integer, got ${value}`)
  }
  return value
}

/** Throws unless `value` is a non-empty string without control characters, at most `maxBytes` long. */
export function assertName(name: string, value: unknown, maxBytes = 512): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string, got ${describe(value)}`)
  }
  if (Buffer.byteLength(value) > maxBytes) {
    throw new InvalidArgumentError(`${name} is longer than ${maxBytes} bytes`)
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError(`${name} must not contain control characters`)
  }
  return value
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  return typeof value
}
