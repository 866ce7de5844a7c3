export { redisBinaries } from './binaries.js'
export { type RedisCluster, type StartClusterOptions, startCluster } from './cluster.js'
export { freePort } from './free-port.js'
export { lossyFailover } from './lossy-failover.js'
export { type RedisServer, type StartRedisOptions, startRedis } from './redis-server.js'
export {
  type FailoverMode,
  type ReplicatedCluster,
  type Shard,
  type StartReplicatedClusterOptions,
  startReplicatedCluster,
} from './replicated-cluster.js'
export { startServers, stopAll } from './servers.js'
export { settledFailover, settledShard } from './settled-shard.js'
export { waitFor } from './wait-for.js'
