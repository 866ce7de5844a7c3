#!/bin/sh
# Bundles perf/measure.ts (our src and a baseline copy of src) like tsup builds the package (no
# keepNames), then runs it: node perf/.out/measure.mjs [rounds] [calls]; ONLY=ours-1,rlf-1 limits the rows.
# The baseline is src at BASE (default: the commit before the hot-path work), extracted once.
set -e
cd "$(dirname "$0")/.."
if [ ! -d perf/baseline/src ]; then
  mkdir -p perf/baseline
  git archive "${BASE:-8ee2aad}" src | tar -x -C perf/baseline
fi
ESBUILD=$(ls -d /work/main/node_modules/.pnpm/esbuild@0.25.12/node_modules/esbuild/bin/esbuild)
$ESBUILD perf/measure.ts --bundle --platform=node --format=esm --target=node20 \
  --external:ioredis --external:@x/testkit --external:@x/redis-core --outfile=perf/.out/measure.mjs --log-level=warning
node perf/.out/measure.mjs "$@"
