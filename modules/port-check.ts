/**
 * port-check: is something listening on a port of the target, or can a TCP connection be opened —
 * from the target itself, or from the controller. Read-only: never changes anything.
 */
import net from 'node:net';
import type { ModuleDef, TaskContext, TaskResult } from '../engine/module-types.js';
import { shellQuote } from '../engine/transport/transport.js';
import { lastLines } from './lib/run-command.js';
import { allowTemplates, checkRendered } from './lib/templated-args.js';
import { formatListener, matching, parseProcNetTcp, parseSs, type Listener } from './lib/listeners.js';

export type PortState = 'listening' | 'open' | 'closed';

export interface PortCheckArgs {
  port: number;
  host?: string;
  state?: PortState;
  from?: 'target' | 'controller';
  timeout?: number;
}

/** What a connect attempt found. */
interface Probe {
  open: boolean;
  /** Why it is closed: refused, timed out, unreachable... */
  reason?: string;
  ms: number;
}

const DEFAULT_TIMEOUT_S = 5;

/** Listeners on the target: `ss -ltnH`, else the kernel's tables read with shell builtins only. */
async function listListeners(ctx: TaskContext): Promise<{ listeners: Listener[]; source: string } | { error: string }> {
  const script = [
    'if command -v ss >/dev/null 2>&1; then echo "#ss"; exec ss -ltnH; fi',
    'echo "#proc"',
    'for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && while IFS= read -r l; do printf "%s\\n" "$l"; done <"$f"; done',
    'true',
  ].join('\n');
  const r = await ctx.transport.exec(script, { env: ctx.environment, signal: ctx.signal, timeoutMs: ctx.timeoutMs ?? 30000 });
  if (r.rc !== 0) return { error: `listing listeners on ${ctx.host.name} failed (rc ${r.rc}): ${lastLines(r.stderr, 3) || 'no message'}` };
  const [head, ...rest] = r.stdout.split('\n');
  const body = rest.join('\n');
  if (head === '#ss') return { listeners: parseSs(body), source: 'ss -ltnH' };
  return { listeners: parseProcNetTcp(body), source: '/proc/net/tcp{,6}' };
}

/**
 * A TCP connect from the target: bash's /dev/tcp under coreutils' timeout, timed on the target so
 * the SSH round trip does not count. Prints `rc ms` then bash's error, if any.
 */
async function probeFromTarget(ctx: TaskContext, host: string, port: number, timeoutS: number): Promise<Probe | { error: string }> {
  const script = [
    'command -v bash >/dev/null 2>&1 || { echo "port-check needs bash (for /dev/tcp) on this host" >&2; exit 127; }',
    'command -v timeout >/dev/null 2>&1 || { echo "port-check needs timeout (coreutils) on this host" >&2; exit 127; }',
    's=$(date +%s%N)',
    `err=$(timeout -k 1 ${timeoutS} bash -c 'exec 3<>"/dev/tcp/$0/$1"' ${shellQuote(host)} ${port} 2>&1)`,
    'rc=$?',
    'e=$(date +%s%N)',
    'printf "%s %s\\n%s\\n" "$rc" "$(( (e - s) / 1000000 ))" "$err"',
  ].join('\n');
  const r = await ctx.transport.exec(script, { env: ctx.environment, signal: ctx.signal, timeoutMs: (timeoutS + 15) * 1000 });
  if (r.rc !== 0) return { error: `${ctx.host.name}: ${lastLines(r.stderr, 2) || `the probe exited with ${r.rc}`}` };
  const [first = '', ...errLines] = r.stdout.split('\n');
  const [rcText, msText] = first.split(' ');
  const rc = Number(rcText);
  const ms = Number(msText);
  if (rc === 0) return { open: true, ms };
  if (rc === 124 || rc === 137) return { open: false, reason: `timed out after ${timeoutS}s`, ms };
  const why = errLines.join(' ').match(/: ([^:]+)$/)?.[1]?.trim().toLowerCase();
  return { open: false, reason: why || `connect failed (rc ${rc})`, ms };
}

/**
 * A TCP connect from the controller, with node:net. This deliberately bypasses the host's
 * transport: the question is whether the *controller* can reach the port over the network.
 */
function probeFromController(host: string, port: number, timeoutS: number, signal: AbortSignal): Promise<Probe> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const socket = net.createConnection({ host, port });
    const finish = (p: Omit<Probe, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ...p, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish({ open: false, reason: `timed out after ${timeoutS}s` }), timeoutS * 1000);
    const onAbort = () => finish({ open: false, reason: 'interrupted' });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ open: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ open: false, reason: errnoReason(err) }));
  });
}

function errnoReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'no route to host';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'name does not resolve';
    default:
      return err.code ?? err.message;
  }
}

/** The arguments after rendering; at parse time each may also be a template (allowTemplates). */
const STRICT = {
  type: 'object',
  additionalProperties: false,
  required: ['port'],
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The TCP port.' },
    host: {
      type: 'string',
      minLength: 1,
      pattern: '^[A-Za-z0-9.:_-]+$',
      description:
        '`open`/`closed`: the address to connect to (from the target: default 127.0.0.1; from the controller: default the host’s inventory `address`). `listening`: only listeners on this address (or a wildcard address) count.',
    },
    state: { enum: ['listening', 'open', 'closed'], default: 'listening', description: 'What the port must be.' },
    from: { enum: ['target', 'controller'], default: 'target', description: 'Where the connect is tried from (`open`/`closed`). `listening` is always read on the target.' },
    timeout: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: DEFAULT_TIMEOUT_S, description: 'Seconds a connect may take before the port counts as closed.' },
  },
};

export const portCheck: ModuleDef<PortCheckArgs> = {
  name: 'port-check',
  description:
    'Check a TCP port: `listening` (something listens on it on the target), `open` or `closed` (a TCP connect succeeds or fails), tried from the target or from the controller. Never changes anything.',
  schema: allowTemplates(STRICT),
  examples: [
    '```yaml',
    '- name: distccd listens on 3632',
    '  port-check:',
    '    port: 3632',
    '',
    '- name: The controller can reach distccd',
    '  port_check:',
    '    port: 3632',
    '    state: open',
    '    from: controller',
    '    timeout: 3',
    '```',
  ].join('\n'),
  async run(ctx, rendered): Promise<TaskResult> {
    const checked = checkRendered<PortCheckArgs>(STRICT, rendered as unknown as Record<string, unknown>);
    if (!checked.ok) return { changed: false, failed: true, msg: checked.msg };
    const args = checked.args;
    const port = args.port;
    const expected = args.state ?? 'listening';
    const from = args.from ?? 'target';
    const timeoutS = args.timeout ?? DEFAULT_TIMEOUT_S;
    const name = ctx.host.name;

    if (expected === 'listening') {
      if (from === 'controller') {
        return { changed: false, failed: true, msg: 'port-check: `state: listening` is read on the target (which sockets listen there); from the controller use `state: open`' };
      }
      const t0 = Date.now();
      const found = await listListeners(ctx);
      if ('error' in found) return { changed: false, failed: true, msg: found.error };
      const hits = matching(found.listeners, port, args.host);
      const data = { host: args.host ?? '*', port, state: hits.length ? 'listening' : 'not-listening', expected, from, ms: Date.now() - t0, listeners: hits.map(formatListener), source: found.source };
      if (!hits.length) {
        const others = matching(found.listeners, port).map(formatListener);
        const hint = args.host && others.length ? `; it listens on ${others.join(', ')} only` : '';
        return { changed: false, failed: true, msg: `${name}: nothing listens on ${args.host ? `${args.host}:` : ''}${port} (expected listening${hint})`, data };
      }
      return { changed: false, msg: `${name}: ${hits.map(formatListener).join(', ')} listening`, data };
    }

    let target: string;
    let probe: Probe;
    if (from === 'controller') {
      target = args.host ?? String(ctx.host.vars.address ?? name);
      probe = await probeFromController(target, port, timeoutS, ctx.signal);
    } else {
      target = args.host ?? '127.0.0.1';
      const p = await probeFromTarget(ctx, target, port, timeoutS);
      if ('error' in p) return { changed: false, failed: true, msg: p.error };
      probe = p;
    }
    const state = probe.open ? 'open' : 'closed';
    const where = from === 'controller' ? `from the controller` : `from ${name}`;
    const data = { host: target, port, state, expected, from, ms: probe.ms, reason: probe.reason ?? null };
    const seen = `${target}:${port} is ${state}${probe.reason ? ` (${probe.reason})` : ''}`;
    if (state !== expected) return { changed: false, failed: true, msg: `${name}: ${seen} ${where} (expected ${expected})`, data };
    return { changed: false, msg: `${seen} ${where}`, data };
  },
};
