import { randomBytes } from 'node:crypto'

let counter = 0

/**
 * A name no other test of this run uses (`label-<n>-<random>`), for keys, channels and resources,
 * so that files sharing a server never see each other's data.
 */
export function uniqueName(label = 'x'): string {
  counter += 1
  return `${label}-${counter}-${randomBytes(4).toString('hex')}`
}
