/** What the global setup provides to test files through vitest's `inject`. */
export interface SharedRedis {
  url: string
  clusterNodes: Array<{ host: string; port: number }>
}

declare module 'vitest' {
  export interface ProvidedContext {
    xRedis: SharedRedis
  }
}
