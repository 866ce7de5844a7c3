export { CHANNELS, type InstrumentedPackage } from './channels.js'
export { type Instrumentation, type InstrumentOptions, instrument } from './instrument.js'
