import type { TestProject } from 'vitest/node'
import { startCluster } from './cluster.js'
import { startRedis } from './redis-server.js'

import './provided.js'

/**
 * vitest globalSetup: one standalone server and one 3-master cluster shared by every test file of
 * the run. Files isolate themselves with their own key prefix (see `targets()`); tests that inject
 * faults start their own servers with `startRedis()`.
 */
export default async function setup(project: TestProject) {
  const [server, cluster] = await Promise.all([startRedis(), startCluster({ masters: 3 })])
  project.provide('xRedis', { url: server.url, clusterNodes: cluster.startupNodes })
  return async () => {
    await Promise.all([server.stop(), cluster.stop()])
  }
}
