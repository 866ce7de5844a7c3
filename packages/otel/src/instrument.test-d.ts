import type { MeterProvider, TracerProvider } from '@opentelemetry/api'
import { describe, expectTypeOf, it } from 'vitest'
import {
  CHANNELS,
  type Instrumentation,
  type InstrumentedPackage,
  type InstrumentOptions,
  instrument,
} from './index.js'

describe('public types', () => {
  it('instrument takes one optional options object and returns a disposable instrumentation', () => {
    expectTypeOf(instrument).parameters.toEqualTypeOf<[options?: InstrumentOptions]>()
    expectTypeOf(instrument()).toEqualTypeOf<Instrumentation>()
    expectTypeOf<Instrumentation>().toHaveProperty('close').toEqualTypeOf<() => void>()
    expectTypeOf<Instrumentation>().toHaveProperty(Symbol.dispose)
  })

  it('options take the OpenTelemetry API providers and a list of known packages', () => {
    expectTypeOf<InstrumentOptions['tracerProvider']>().toEqualTypeOf<TracerProvider | undefined>()
    expectTypeOf<InstrumentOptions['meterProvider']>().toEqualTypeOf<MeterProvider | undefined>()
    expectTypeOf<InstrumentedPackage>().toEqualTypeOf<'cache' | 'ratelimit' | 'lock' | 'session' | 'pubsub'>()
    // @ts-expect-error: only the @x pattern packages publish channels
    instrument({ packages: ['redis-core'] })
  })

  it('CHANNELS lists each package’s operations as literal names', () => {
    expectTypeOf(CHANNELS.cache).items.toExtend<string>()
    expectTypeOf<(typeof CHANNELS.lock)[number]>().toExtend<
      'acquire' | 'tryAcquire' | 'withLock' | 'extend' | 'release' | 'raiseFence' | 'inspect'
    >()
  })
})
