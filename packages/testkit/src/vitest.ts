export { type CommandCount, type CommandRecorder, countCommands } from './count-commands.js'
export { eventually, sleep, type Target, targets } from './targets.js'
export { uniqueName } from './unique-name.js'
export { useRedis } from './use-redis.js'
