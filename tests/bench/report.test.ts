/**
 * The benchmark's arithmetic: medians, ratios, cost per added host and the target verdicts, on
 * recorded samples (nothing is timed here).
 */
import { machineBusyMs } from '../../bench/measure.js';
import { markdown, median, rows, slopes, targets, type CaseRun, type CheckRun, type Results, type Sample, type Tool } from '../../bench/report.js';

const s = (wallMs: number, extra: Partial<Sample> = {}): Sample => ({ wallMs, exitCode: 0, ...extra });

function run(tool: Tool, size: number, walls: number[], extra: Partial<CaseRun> = {}, sample: Partial<Sample> = {}): CaseRun {
  return { case: 'validate-8', size, targets: size, tool, file: `${tool}.yml`, samples: walls.map((w) => s(w, sample)), ...extra };
}

function results(cases: CaseRun[], check: CheckRun[] = []): Results {
  return {
    date: '2026-01-01T00:00:00.000Z',
    machine: { nproc: 2, cpu: 'test', memMb: 1024, node: 'v20', ansible: 'ansible-playbook [core 2.14]', openssh: 'OpenSSH_9.2', kernel: '6.1' },
    runs: 5,
    sizes: [...new Set(cases.map((c) => c.size))],
    cases,
    check,
    notes: [],
  };
}

describe('median', () => {
  test('odd and even counts, unsorted input left untouched', () => {
    const input = [5, 1, 4, 2, 3];
    expect(median(input)).toBe(3);
    expect(input).toEqual([5, 1, 4, 2, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });
});

describe('slopes', () => {
  test('ms per added host between consecutive sizes, keyed by the larger size, whatever the order', () => {
    const m = slopes([
      { size: 32, ms: 2600 },
      { size: 4, ms: 600 },
      { size: 16, ms: 1400 },
    ]);
    expect([...m.entries()]).toEqual([
      [16, (1400 - 600) / 12],
      [32, (2600 - 1400) / 16],
    ]);
    expect(slopes([{ size: 4, ms: 1 }]).size).toBe(0);
  });
});

describe('rows', () => {
  test('medians, ratios, slopes and the peak RSS per case and size', () => {
    const r = rows(
      results([
        run('tsplay', 4, [700, 500, 600, 900, 650], {}, { maxRssKb: 60_000 }),
        run('ansible', 4, [9000, 8000, 7000, 10000, 8500]),
        run('lower', 4, [520, 500, 480, 510, 530]),
        run('tsplay', 16, [1000, 1100, 1200, 1300, 1400], {}, { maxRssKb: 64_000 }),
        run('ansible', 16, [20000, 20000, 20000, 20000, 20000]),
        run('lower', 16, [800, 800, 800, 800, 800]),
      ]),
    );
    expect(r).toHaveLength(2);
    const [a, b] = r;
    expect(a).toMatchObject({ case: 'validate-8', size: 4, ms: { tsplay: 650, ansible: 8500, lower: 510 }, slope: {}, tsplayRssKb: 60_000 });
    expect(a!.vsAnsible).toBeCloseTo(650 / 8500);
    expect(a!.vsLower).toBeCloseTo(650 / 510);
    expect(b!.slope.tsplay).toBeCloseTo((1200 - 650) / 12);
    expect(b!.slope.lower).toBeCloseTo((800 - 510) / 12);
    expect(b!.slope.ansible).toBeCloseTo((20000 - 8500) / 12);
  });

  test('failed runs are counted and the ansible memory run feeds its RSS figures', () => {
    const ans = run('ansible', 4, [1, 2, 3], { memory: s(9, { mainRssKb: 50_000, treeRssKb: 250_000 }) });
    const ts = run('tsplay', 4, [1, 2, 3]);
    ts.samples[1] = s(2, { exitCode: 2 });
    const [row] = rows(results([ts, ans]));
    expect(row!.failures).toEqual({ tsplay: 1 });
    expect(row!.ansibleMainRssKb).toBe(50_000);
    expect(row!.ansibleTreeRssKb).toBe(250_000);
    expect(row!.vsLower).toBeUndefined();
  });
});

describe('targets', () => {
  const check = (tsplayMs: number, ansibleMs: number): CheckRun[] => [
    { tool: 'tsplay', files: ['a', 'b', 'c', 'd', 'e'], samples: [s(tsplayMs)] },
    { tool: 'ansible', files: ['a', 'b', 'c'], samples: [s(ansibleMs)] },
  ];

  test('all PASS at the boundaries: exactly 10×, exactly 1.25×, equal slopes, exactly 80 MB, 300 ms', () => {
    const t = targets(
      results(
        [
          run('tsplay', 4, [1000]),
          run('ansible', 4, [10000]),
          run('lower', 4, [800]),
          run('tsplay', 16, [1250]),
          run('ansible', 16, [12500]),
          run('lower', 16, [1000]),
          run('tsplay', 32, [1250 + 16 * 30], {}, { maxRssKb: 80 * 1024 }),
          run('ansible', 32, [40000]),
          run('lower', 32, [1000 + 16 * 30]),
        ],
        check(300, 301),
      ),
    );
    expect(t.map((x) => x.verdict)).toEqual(['PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS']);
    expect(t[0]!.detail).toContain('10.0×');
  });

  test('each target FAILs on its own', () => {
    const t = targets(
      results(
        [
          run('tsplay', 4, [1001]),
          run('ansible', 4, [10000]),
          run('lower', 4, [1000]),
          run('tsplay', 16, [1300]),
          run('ansible', 16, [13000]),
          run('lower', 16, [1000]),
          run('tsplay', 32, [1300 + 16 * 31], {}, { maxRssKb: 80 * 1024 + 1 }),
          run('ansible', 32, [40000]),
          run('lower', 32, [1000 + 16 * 30]),
        ],
        check(301, 1000),
      ),
    );
    expect(t.map((x) => x.verdict)).toEqual(['FAIL', 'PASS', 'PASS', 'FAIL', 'FAIL', 'FAIL', 'FAIL']);
    expect(targets(results([], check(200, 150))).pop()!.verdict).toBe('FAIL');
  });

  test('n/a for what was not measured; only validate-8 counts for the speed targets', () => {
    const other = (tool: Tool, size: number, w: number) => run(tool, size, [w], { case: 'pump-preflight' });
    const t = targets(results([other('tsplay', 4, 10), other('ansible', 4, 1000), other('lower', 4, 10)]));
    expect(t.map((x) => x.verdict)).toEqual(['n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
  });
});

describe('markdown', () => {
  test('one row per case and size, the check table and the verdicts', () => {
    const md = markdown(
      results(
        [run('tsplay', 4, [650], {}, { maxRssKb: 61_440 }), run('ansible', 4, [8500]), run('lower', 4, [520]), run('tsplay', 4, [50], { case: 'pump-preflight', targets: 1 })],
        [{ tool: 'tsplay', files: ['x'], samples: [s(120)] }],
      ),
    );
    expect(md).toContain('| validate-8 | 4 | 650 | 8500 | 520 | 0.08 | 1.25 | – | – | 60.0 | – / – |');
    expect(md).toContain('| pump-preflight | 4 (1 targeted) | 50 | – | – |');
    expect(md).toContain('| tsplay check | 1 | 120 |');
    expect(md).toMatch(/\| validate-8 on 4 hosts: tsplay ≥ 10× faster than ansible-playbook \| PASS \| 13\.1× /);
    expect(md).not.toContain('machine CPU');
  });

  test('the machine-CPU table: median per tool and the tsplay/lower ratio, only where it was measured', () => {
    const cpu = (tool: Tool, values: number[]) => ({ ...run(tool, 16, values.map(() => 1)), samples: values.map((m) => s(1, { machineCpuMs: m })) });
    const md = markdown(results([cpu('tsplay', [2200, 2000, 2400]), cpu('ansible', [9000]), cpu('lower', [1000, 1100, 1200]), run('tsplay', 4, [1])]));
    expect(md).toContain('| machine CPU per run (controller + hosts), median | hosts | tsplay ms | ansible ms | lower bound ms | tsplay/lower |');
    expect(md).toContain('| validate-8 | 16 | 2200 | 9000 | 1100 | 2.00 |');
    expect(md).not.toMatch(/\| validate-8 \| 4 \| – \| – \| – \| – \|/);
  });
});

describe('machineBusyMs', () => {
  test('sums user, nice, system, irq, softirq and steal of the cpu line (10 ms ticks), not idle or iowait', () => {
    const stat = 'cpu  100 20 30 5000 70 4 6 1 0 0\ncpu0 50 10 15 2500 35 2 3 0 0 0\nintr 1\n';
    expect(machineBusyMs(stat)).toBe((100 + 20 + 30 + 4 + 6 + 1) * 10);
    expect(machineBusyMs('intr 1\n')).toBeUndefined();
    const now = machineBusyMs();
    expect(now).toBeGreaterThan(0);
  });
});
