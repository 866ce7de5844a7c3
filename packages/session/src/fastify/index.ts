export type { SessionControl, SessionIntegrationOptions } from '../session-control.js'
export { type FastifySessionData, sessionPlugin } from './fastify-plugin.js'
