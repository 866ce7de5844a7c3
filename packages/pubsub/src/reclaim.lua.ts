import { defineScript } from '@x/redis-core'

/**
 * Reclaims messages left pending too long (their consumer crashed or failed them) and moves the
 * ones delivered too often to the dead-letter stream, in one atomic step so two consumers can
 * never both dead-letter or both redeliver the same message.
 *
 * A dead letter copies the entry's fields only up to 1,000 pairs (Lua cannot pass more than ~8,000
 * values to one command, and one huge entry must not make every run fail); a larger entry keeps its
 * `d` field and records how many pairs it had in `x-fields`.
 *
 * KEYS[1] the stream
 * KEYS[2] the dead-letter stream (same hash tag)
 * ARGV[1] group
 * ARGV[2] consumer that takes the reclaimed messages
 * ARGV[3] minimum idle time in ms
 * ARGV[4] cursor (start id, '0-0' to start over)
 * ARGV[5] most messages to look at
 * ARGV[6] max deliveries: a message claimed for a delivery beyond this goes to the dead letters
 * ARGV[7] approximate MAXLEN of the dead-letter stream
 *
 * Returns { next cursor, { {id, {field, value, ...}, deliveries}, ... }, { {id, deliveries}, ... } dead-lettered }.
 * XAUTOCLAIM increments the delivery counter of what it claims; XPENDING reads it back.
 */
export const reclaimScript = defineScript<{
  keys: [stream: string, deadLetters: string]
  args: [
    group: string,
    consumer: string,
    minIdleMs: number,
    cursor: string,
    count: number,
    maxDeliveries: number,
    maxLen: number,
  ]
  result: [
    cursor: string,
    deliver: Array<[id: string, fields: string[], deliveries: number]>,
    dead: Array<[id: string, deliveries: number]>,
  ]
}>({
  name: 'pubsub:reclaim',
  keys: 2,
  lua: `
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local deliver = {}
local dead = {}
local maxDeliveries = tonumber(ARGV[6])
for _, entry in ipairs(claimed[2]) do
  if type(entry) == 'table' and type(entry[2]) == 'table' then
    local id = entry[1]
    local fields = entry[2]
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local deliveries = 1
    if pending[1] then deliveries = tonumber(pending[1][4]) end
    if deliveries > maxDeliveries then
      local args = { KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'x-id', id, 'x-deliveries', deliveries, 'x-group', ARGV[1], 'x-reason', 'max-deliveries' }
      if #fields <= 2000 then
        for index = 1, #fields do args[#args + 1] = fields[index] end
      else
        args[#args + 1] = 'x-fields'
        args[#args + 1] = #fields / 2
        for index = 1, #fields - 1, 2 do
          if fields[index] == 'd' then
            args[#args + 1] = 'd'
            args[#args + 1] = fields[index + 1]
            break
          end
        end
      end
      redis.call('XADD', unpack(args))
      redis.call('XACK', KEYS[1], ARGV[1], id)
      dead[#dead + 1] = { id, deliveries }
    else
      deliver[#deliver + 1] = { id, fields, deliveries }
    end
  end
end
return { claimed[1], deliver, dead }
`,
})
