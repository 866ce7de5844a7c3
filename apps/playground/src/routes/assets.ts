import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'

const require = createRequire(import.meta.url)
// This module runs bundled into dist/main.js: the app's folder is one level up.
const appDir = resolve(import.meta.dirname, '..')

/**
 * The page's own script and styles (public/, plain files: nothing to build) and uPlot straight
 * from node_modules. A fixed list: no path from the URL ever reaches the file system.
 */
const files: Record<string, { path: string; type: string }> = {
  'showcase.js': { path: resolve(appDir, 'public/showcase.js'), type: 'text/javascript; charset=utf-8' },
  'showcase.css': { path: resolve(appDir, 'public/showcase.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': {
    path: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'uplot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
}

export function assetRoutes() {
  return new Hono<AppEnv>().get('/assets/:name', async (c) => {
    const file = Object.hasOwn(files, c.req.param('name')) ? files[c.req.param('name')] : undefined
    if (!file) return c.notFound()
    // Read on every request (small files): an edit to public/ shows on reload, no rebuild.
    const body = await readFile(file.path)
    return c.body(new Uint8Array(body), 200, { 'content-type': file.type, 'cache-control': 'no-cache' })
  })
}
