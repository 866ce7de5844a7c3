/**
 * The Lua statements that mint a fencing token into the local `fence`: max(INCR counter, server
 * time in µs), written back to the counter when the clock is ahead. Every script that hands out a
 * lease splices these in, so the rule lives here once.
 *
 * Why the clock: replication is asynchronous, so a replica promoted after a failover can hold a
 * lower counter than the last fence its dead master handed out; a plain INCR would then hand that
 * fence out again. The clock floor puts the first fence after a failover above every earlier one as
 * long as the new master's clock is not behind the old one's by more than the failover took
 * (seconds, with NTP-synchronised clocks). The INCR keeps fences strictly increasing on one server
 * whatever its clock does (stepped back, or several grants within one µs).
 *
 * Exactness: the value is ~1.8e15 today and stays below 2^53 (where Lua's doubles stop being exact)
 * until the year 2255. `string.format('%.0f')` writes it as a plain integer that INCR accepts,
 * whatever number formatting the server applies to arguments (Lua's `tostring` would write
 * `1.7960000001235e+15`). TIME before a write in a script needs effects replication: the default
 * since Redis 5, the only mode since Redis 7.
 */
export function mintFence(keyIndex: number): string {
  return `local fenceTime = redis.call('TIME')
local fenceFloor = tonumber(fenceTime[1]) * 1000000 + tonumber(fenceTime[2])
local fence = redis.call('INCR', KEYS[${keyIndex}])
if fence < fenceFloor then
  fence = fenceFloor
  redis.call('SET', KEYS[${keyIndex}], string.format('%.0f', fence))
end`
}
