import { InvalidArgumentError } from '@x/redis-core'
import { isRecord } from './data-encoding.js'
import type { DeviceInfo } from './types.js'

const DEVICE_LIMITS = { userAgent: 512, ip: 64, label: 128 } as const

/** Device fields as stored: each a string, cut to its limit ('' when absent). */
export function normalizeDevice(device: DeviceInfo | undefined): Required<DeviceInfo> {
  if (device === undefined) return { userAgent: '', ip: '', label: '' }
  if (!isRecord(device)) throw new InvalidArgumentError('device must be an object')
  const out = { userAgent: '', ip: '', label: '' }
  for (const field of ['userAgent', 'ip', 'label'] as const) {
    const value = device[field]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string') throw new InvalidArgumentError(`device.${field} must be a string`)
    out[field] = value.slice(0, DEVICE_LIMITS[field])
  }
  return out
}
