import type { Command } from 'commander';
import {
  formatStatus, isLabError, labDown, labHeal, labHeat, labPartition, labStart, labStatus, labStop, labUp, parseCelsius, parseWorkers,
} from '../../lab/index.js';
import { formatDiagnostic } from '../../engine/diagnostics.js';

const say = (msg: string): void => {
  process.stderr.write(`tsplay lab: ${msg}\n`);
};

/** Runs a lab action; lab errors become one clear message and exit 2 (usage) or 1 (environment). */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (!isLabError(err)) throw err;
      for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      process.exitCode = err.kind === 'usage' ? 2 : 1;
    }
  };
}

/** Adds `tsplay lab up|down|status|stop|start|partition|heal|heat`: a real cluster of network namespaces on this machine. */
export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('a kernel-build cluster (cm3, builder, distcc workers) in network namespaces on this machine (root)');

  lab
    .command('up')
    .description('build or repair the lab and write its inventory (idempotent)')
    .option('--workers <n>', 'number of distcc workers (default: as now, or 2)')
    .option('--take-over', 'tear down a lab that another checkout (lab dir) brought up on this machine, then build this one')
    .action(action(async (opts: { workers?: string; takeOver?: boolean }) => {
      const paths = await labUp({
        workers: opts.workers === undefined ? undefined : parseWorkers(opts.workers),
        takeOver: opts.takeOver === true,
        log: say,
      });
      process.stdout.write(`${paths.inventory}\n`);
    }));

  lab
    .command('down')
    .description('remove every lab host, namespace and the bridge (keys are kept)')
    .action(action(async () => labDown(say)));

  lab
    .command('status')
    .description('show each host: class, address, power, sshd, distccd, temperature')
    .option('--json', 'print JSON')
    .action(action(async (opts: { json?: boolean }) => {
      const status = await labStatus();
      process.stdout.write((opts.json ? JSON.stringify(status, null, 2) : formatStatus(status)) + '\n');
    }));

  lab
    .command('stop')
    .description('power a host off: cable out, every process of it killed')
    .argument('<host>', 'lab host, e.g. w2')
    .action(action(async (host: string) => labStop(host, say)));

  lab
    .command('start')
    .description('power a host on: cable in, fresh boot, sshd and enabled units started')
    .argument('<host>', 'lab host, e.g. w2')
    .action(action(async (host: string) => labStart(host, say)));

  lab
    .command('partition')
    .description('cut a host off from the controller while it keeps running (until `lab heal`)')
    .argument('<host>', 'lab host, e.g. w2')
    .action(action(async (host: string) => labPartition(host, say)));

  lab
    .command('heal')
    .description('end a partition: the host is reachable again')
    .argument('<host>', 'lab host, e.g. w2')
    .action(action(async (host: string) => labHeal(host, say)));

  lab
    .command('heat')
    .description("set a host's thermal sensor (/sys/class/thermal/thermal_zone0/temp)")
    .argument('<host>', 'lab host, e.g. w1')
    .argument('<celsius>', 'degrees Celsius, e.g. 90')
    .action(action(async (host: string, celsius: string) => labHeat(host, parseCelsius(celsius))));
}
