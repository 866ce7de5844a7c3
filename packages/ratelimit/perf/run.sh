#!/bin/sh
# Bundles perf/measure.ts (our src and the baseline copy) like tsup builds the package (no keepNames), then runs it.
set -e
cd "$(dirname "$0")/.."
ESBUILD=$(ls -d /work/main/node_modules/.pnpm/esbuild@0.25.12/node_modules/esbuild/bin/esbuild)
$ESBUILD perf/measure.ts --bundle --platform=node --format=esm --target=node20 \
  --external:ioredis --external:@x/testkit --external:@x/redis-core --outfile=perf/.out/measure.mjs --log-level=warning
node perf/.out/measure.mjs "$@"
