import { defineScript } from '@x/redis-core'

/**
 * Moves one message to the dead-letter stream and acknowledges it, atomically: it is never both
 * dead-lettered and still pending, nor acknowledged and lost. The entry's fields are read here
 * rather than sent by the caller, and copied only up to 1,000 pairs: Lua cannot pass more than
 * ~8,000 values to one command, and an entry of any size must be dead-letterable. A larger entry
 * keeps its `d` field and records how many pairs it had in `x-fields`.
 *
 * KEYS[1] the stream
 * KEYS[2] the dead-letter stream (same hash tag)
 * ARGV[1] group
 * ARGV[2] message id
 * ARGV[3] deliveries so far
 * ARGV[4] reason ('max-deliveries' or 'invalid')
 * ARGV[5] error text
 * ARGV[6] approximate MAXLEN of the dead-letter stream
 *
 * Returns 1 if the message was still pending for the group (and is now dead-lettered), 0 if another
 * consumer had already acknowledged or dead-lettered it.
 */
export const deadLetterScript = defineScript<{
  keys: [stream: string, deadLetters: string]
  args: [group: string, id: string, deliveries: number, reason: string, error: string, maxLen: number]
  result: 0 | 1
}>({
  name: 'pubsub:dead-letter',
  keys: 2,
  lua: `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if not pending[1] then return 0 end
local args = { KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'x-id', ARGV[2], 'x-deliveries', ARGV[3], 'x-group', ARGV[1], 'x-reason', ARGV[4], 'x-error', ARGV[5] }
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])[1]
local fields = entry and entry[2] or {}
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
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
`,
})
