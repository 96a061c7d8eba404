#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS TSPLAY_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --max-semi-space-size=2 --no-opt --single-threaded-gc
// Thin launcher: the CLI is built from cli/ into dist/bundle (build/bundle.ts). Build with `npm run build`.
// V8 set for a short-lived controller on a small machine (README, Performance): no optimising
// compiler (--no-opt: a run is over before TurboFan's code pays for its compile time and memory),
// 2 MB semi-spaces (V8's default 16 MB young generation cost ~9 MB of peak RSS at 32 hosts) and
// the garbage collector on the main thread (on 2 busy cores its helper threads only wait for a
// core). Against 4 MB semi-spaces with --optimize-for-size, which this line used to carry: −15 ms
// wall and −28 ms CPU for validate-8 on 4 hosts, and less memory. bin/tsplay starts node with the
// same flags (build/snapshot.ts V8_FLAGS) from the start-up snapshot.
// NODE_EXTRA_CA_CERTS: the #! line starts node without it and hands it over (cli/main.ts restoreLauncherEnv).
import('../dist/bundle/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle/main.js')) {
    process.stderr.write('tsplay: not built yet — run `npm run build` in ' + new URL('..', import.meta.url).pathname + '\n');
    process.exit(70);
  }
  process.stderr.write(`tsplay: internal error: ${err && err.stack ? err.stack : err}\n`);
  process.exit(70);
});
