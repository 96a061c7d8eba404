#!/usr/bin/env -S node --max-semi-space-size=4
// Thin launcher: the CLI lives in dist/cli (compiled from cli/). Build with `npm run build`.
// 4 MB semi-spaces: V8's default (16 MB) grows the young generation to ~16 MB during a run on many
// hosts; capped at 4 MB, the peak RSS at 32 hosts is ~9 MB lower for a few % more CPU (docs/bench.md).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('tsplay: not built yet — run `npm run build` in ' + new URL('..', import.meta.url).pathname + '\n');
    process.exit(70);
  }
  process.stderr.write(`tsplay: internal error: ${err && err.stack ? err.stack : err}\n`);
  process.exit(70);
});
