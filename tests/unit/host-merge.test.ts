import type { Diagnostic } from '../../engine/diagnostics.js';
import { HostMerger } from '../../engine/validate/host-merge.js';

const diag = (message: string, line = 5): Diagnostic => ({ code: 'doctrine/forbidden', severity: 'error', message, file: 'p.yml', line, column: 7 });

test('the same problem on several hosts becomes one diagnostic naming them', () => {
  const out: Diagnostic[] = [];
  const m = new HostMerger(out);
  m.add(diag('task "Build": -j32 is forbidden on x86_64 hardware (host w1)'), 'w1');
  m.add(diag('task "Build": -j32 is forbidden on x86_64 hardware (host w2)'), 'w2');
  m.add(diag('task "Build": -j32 is forbidden on x86_64 hardware (host w2)'), 'w2');
  expect(out).toHaveLength(1);
  expect(out[0].message).toBe('task "Build": -j32 is forbidden on x86_64 hardware (hosts w1, w2)');
});

test('different places or messages stay apart; w1 is not mistaken for the start of w12', () => {
  const out: Diagnostic[] = [];
  const m = new HostMerger(out);
  m.add(diag('`x` is not defined for host w1'), 'w1');
  m.add(diag('`x` is not defined for host w1', 6), 'w1');
  m.add(diag('`x` is not defined for host w12'), 'w12');
  m.add(diag('-j32 is forbidden on cm3plus hardware (host cm3)'), 'cm3');
  expect(out.map((d) => d.message)).toEqual(['`x` is not defined for hosts w1, w12', '`x` is not defined for host w1', '-j32 is forbidden on cm3plus hardware (host cm3)']);
});

test('host names with regex characters are matched literally', () => {
  const out: Diagnostic[] = [];
  const m = new HostMerger(out);
  m.add(diag('bad for host a.b'), 'a.b');
  m.add(diag('bad for host a+b'), 'a+b');
  expect(out).toHaveLength(1);
  expect(out[0].message).toBe('bad for hosts a.b, a+b');
});
