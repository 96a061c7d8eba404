#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli (compiled from cli/). Build with `npm run build`.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('tsplay: not built yet — run `npm run build` in ' + new URL('..', import.meta.url).pathname + '\n');
    process.exit(70);
  }
  process.stderr.write(`tsplay: internal error: ${err && err.stack ? err.stack : err}\n`);
  process.exit(70);
});
