import { InvalidArgumentError } from '@x/redis-core'
import { describe, expect, it } from 'vitest'
import { ipKey } from './ip-key.js'

describe('ipKey', () => {
  it('keeps an IPv4 address', () => {
    expect(ipKey('203.0.113.7')).toBe('203.0.113.7')
    expect(ipKey(' 10.0.0.1 ')).toBe('10.0.0.1')
  })

  it('turns an IPv4-mapped IPv6 address into its IPv4 address, in either spelling', () => {
    expect(ipKey('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(ipKey('::FFFF:7f00:1')).toBe('127.0.0.1')
    expect(ipKey('0:0:0:0:0:ffff:c000:0201')).toBe('192.0.2.1')
  })

  it('groups IPv6 addresses by a /56 by default: one key for a whole /64 walk', () => {
    const keys = new Set<string>()
    for (let i = 0; i < 50; i++) keys.add(ipKey(`2001:db8:1:2a:${i.toString(16)}:ffff:1234:${i}`))
    expect([...keys]).toEqual(['2001:db8:1::/56'])
    expect(ipKey('2001:db8:1:1ff::1')).toBe('2001:db8:1:100::/56')
    expect(ipKey('[2001:DB8:1:2a::5]')).toBe('2001:db8:1::/56')
    expect(ipKey('fe80::1%eth0', { ipv6Subnet: 64 })).toBe('fe80::/64')
  })

  it('takes another prefix length, or none', () => {
    expect(ipKey('2001:db8:1:2a:3:4:5:6', { ipv6Subnet: 64 })).toBe('2001:db8:1:2a::/64')
    expect(ipKey('2001:db8:1:2a:3:4:5:6', { ipv6Subnet: 48 })).toBe('2001:db8:1::/48')
    expect(ipKey('2001:db8:1:2a:3:4:5:6', { ipv6Subnet: 60 })).toBe('2001:db8:1:20::/60')
    expect(ipKey('2001:0db8:0:0:1:0:0:1', { ipv6Subnet: false })).toBe('2001:db8::1:0:0:1')
    expect(ipKey('::1', { ipv6Subnet: 128 })).toBe('::1/128')
  })

  it('returns what is not an IP address unchanged', () => {
    expect(ipKey('unknown')).toBe('unknown')
    expect(ipKey('1.2.3.256')).toBe('1.2.3.256')
    expect(ipKey('1::2::3')).toBe('1::2::3')
  })

  it('rejects a prefix length outside 1..128', () => {
    for (const ipv6Subnet of [0, 129, 56.5, Number.NaN]) {
      expect(() => ipKey('::1', { ipv6Subnet })).toThrow(InvalidArgumentError)
    }
  })
})
