#!/usr/bin/env -S node --max-semi-space-size=4 --optimize-for-size
// Thin launcher: the CLI is built from cli/ into dist/bundle (build/bundle.ts). Build with `npm run build`.
// Memory over speed, as a CM3+ wants (README, Performance): 4 MB semi-spaces (V8's default 16 MB
// young generation cost ~9 MB of peak RSS at 32 hosts) and V8's --optimize-for-size (another
// ~6 MB at 32 hosts, for ~3% more wall time).
import('../dist/bundle/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle/main.js')) {
    process.stderr.write('tsplay: not built yet — run `npm run build` in ' + new URL('..', import.meta.url).pathname + '\n');
    process.exit(70);
  }
  process.stderr.write(`tsplay: internal error: ${err && err.stack ? err.stack : err}\n`);
  process.exit(70);
});
