/** Options shared by run, check, list-tasks, list-hosts and lifecycle. */
import { Option, type Command } from 'commander';
import { UsageError } from './exit-codes.js';

export const DEFAULT_INVENTORY = 'inventory/hosts.yml';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError('cli/bad-number', `${name} takes a positive whole number, not "${value}"`);
    return Number(value);
  };
}

export function addInventoryOptions(cmd: Command): Command {
  return cmd
    .option('-i, --inventory <file>', 'inventory file (YAML)', process.env.TSPLAY_INVENTORY ?? DEFAULT_INVENTORY)
    .option('-l, --limit <pattern>', 'further limit the hosts (a host pattern)')
    .option('-e, --extra-vars <vars>', 'extra variables: name=value, @file.yml or JSON (repeatable; highest precedence)', collect, []);
}

export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-t, --tags <tags>', 'only run tasks with these tags (comma-separated)', (v: string, p: string[]) => [...p, ...v.split(',').map((s) => s.trim()).filter(Boolean)], [])
    .option('--skip-tags <tags>', 'skip tasks with these tags (comma-separated)', (v: string, p: string[]) => [...p, ...v.split(',').map((s) => s.trim()).filter(Boolean)], [])
    .option('-C, --check', 'change nothing: report what would change', false)
    .option('-D, --diff', 'show the differences in files that change', false)
    .option('--start-at-task <name>', 'start at the task with this name')
    .addOption(new Option('-f, --forks <n>', 'hosts to run a task on at once').default(10).argParser(positiveInt('--forks')))
    .option('--json', 'print one JSON event per line instead of the live display', false)
    .option('-v, --verbose', 'more output (-vv for command output)', (_: string, prev: number) => prev + 1, 0)
    .option('--trust-new-host-keys', 'accept and record SSH host keys not yet in known_hosts (changed keys are still refused)', false)
    .option('--known-hosts <file>', 'known_hosts file (default: the inventory’s known_hosts_file, else ~/.ssh/known_hosts)')
    .addOption(new Option('--connect-timeout <seconds>', 'SSH connect timeout').argParser(positiveInt('--connect-timeout')));
}
