import { InvalidArgumentError } from '@x/redis-core'

export interface IpKeyOptions {
  /**
   * Prefix length that groups IPv6 addresses into one key: one client usually holds a whole /64 or
   * more (a home or cloud allocation is a /56 to /48), so keying on the full address lets it walk
   * billions of addresses around its limit. `false` keys on the full address.
   * @default 56
   */
  ipv6Subnet?: number | false
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const GROUP = /^[0-9a-f]{1,4}$/i

/** The four octets of a dotted IPv4 address, or undefined. */
function parseIPv4(text: string): number[] | undefined {
  const match = IPV4.exec(text)
  if (!match) return undefined
  const octets = match.slice(1).map(Number)
  return octets.every((octet) => octet <= 255) ? octets : undefined
}

/** The eight 16-bit groups of an IPv6 address (zone and brackets removed), or undefined. */
function parseIPv6(input: string): number[] | undefined {
  let text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input
  const zone = text.indexOf('%')
  if (zone >= 0) text = text.slice(0, zone)
  const lastColon = text.lastIndexOf(':')
  if (lastColon < 0) return undefined
  const dotted = text.slice(lastColon + 1)
  if (dotted.includes('.')) {
    // An embedded IPv4 tail (`::ffff:192.0.2.1`) is the last two groups.
    const octets = parseIPv4(dotted)
    if (!octets) return undefined
    const high = ((octets[0]! << 8) | octets[1]!).toString(16)
    const low = ((octets[2]! << 8) | octets[3]!).toString(16)
    text = `${text.slice(0, lastColon + 1)}${high}:${low}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const parts = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  if (!parts.every((part) => GROUP.test(part))) return undefined
  return parts.map((part) => Number.parseInt(part, 16))
}

/** RFC 5952 text of eight groups: lower case, the longest run of two or more zero groups as `::`. */
function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map((group) => group.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

function assertSubnet(subnet: unknown): number | false {
  if (subnet === false) return false
  if (typeof subnet !== 'number' || !Number.isInteger(subnet) || subnet < 1 || subnet > 128) {
    throw new InvalidArgumentError(
      `ipv6Subnet must be an integer prefix length from 1 to 128 or false, got ${String(subnet)}`,
    )
  }
  return subnet
}

/**
 * The rate-limit key of a client address: an IPv4 address as is; an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, what a dual-stack server sees for IPv4 clients) as its IPv4 address; any
 * other IPv6 address as its network in CIDR notation (`2001:db8:0:100::/56` by default), so that a
 * client cannot step around its limit by changing addresses within its allocation. Anything that is
 * not an IP address is returned unchanged. The default key of every middleware.
 */
export function ipKey(address: string, options: IpKeyOptions = {}): string {
  const subnet = assertSubnet(options.ipv6Subnet ?? 56)
  const text = address.trim()
  const v4 = parseIPv4(text)
  if (v4) return v4.join('.')
  const groups = parseIPv6(text)
  if (!groups) return text
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.')
  }
  if (subnet === false) return formatIPv6(groups)
  const masked = groups.map((group, index) => {
    const bits = Math.min(16, Math.max(0, subnet - index * 16))
    return bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff)
  })
  return `${formatIPv6(masked)}/${subnet}`
}
