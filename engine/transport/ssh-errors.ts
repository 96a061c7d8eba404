/**
 * Turns what ssh2 / node-ssh / the socket throw into UnreachableErrors an operator can act on.
 * Decisions are made on error codes and ssh2's `level` field; message text is only consulted for
 * the few ssh2 errors that carry nothing else.
 */
import { UnreachableError } from './transport.js';

export interface ConnectContext {
  host: string;
  address: string;
  port: number;
  user: string;
  /** What was offered for authentication, e.g. "key /home/me/.ssh/id_ed25519". */
  credentials: string;
  connectTimeoutMs: number;
}

export interface Classified {
  error: UnreachableError;
  /** Worth another attempt: the server dropped us before or during the handshake. */
  retryable: boolean;
}

interface LowLevelError {
  code?: unknown;
  level?: unknown;
  message?: unknown;
}

export function where(ctx: Pick<ConnectContext, 'host' | 'address' | 'port'>): string {
  return ctx.host === ctx.address ? `${ctx.address}:${ctx.port}` : `${ctx.host} (${ctx.address}:${ctx.port})`;
}

export function classifyConnectError(err: unknown, ctx: ConnectContext, attempts: number): Classified {
  if (err instanceof UnreachableError) return { error: err, retryable: false };
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as LowLevelError;
  const code = typeof e.code === 'string' ? e.code : '';
  const level = typeof e.level === 'string' ? e.level : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const at = where(ctx);
  const fail = (msg: string, c: string, hint: string, retryable = false): Classified => ({
    error: new UnreachableError(msg, c, hint),
    retryable,
  });

  switch (code) {
    case 'ECONNREFUSED':
      return fail(
        `ssh to ${at}: connection refused — nothing is listening on port ${ctx.port}`,
        'host/connection-refused',
        `Is sshd running on the host, and is port ${ctx.port} the right one (inventory \`port\`)?`,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return fail(
        `ssh to ${at}: no route to host (${code})`,
        'host/no-route',
        'Check the address in the inventory, that the host is powered on, and this machine\'s network/VPN.',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(
        `ssh to ${at}: cannot resolve the name ${ctx.address}`,
        'host/no-route',
        'Check the address in the inventory (typo?) and this machine\'s DNS.',
      );
    case 'ETIMEDOUT':
      return timeout();
    case 'ECONNRESET':
    case 'EPIPE':
      return lostDuringHandshake();
  }
  if (level === 'client-timeout') return timeout();
  if (level === 'client-authentication') {
    return fail(
      `ssh to ${at}: authentication failed for user '${ctx.user}' (tried ${ctx.credentials})`,
      'ssh/auth-failed',
      `Check that the public half of ${ctx.credentials} is in ~${ctx.user}/.ssh/authorized_keys on the host, and that '${ctx.user}' is the right user.`,
    );
  }
  if (/private ?key|passphrase/i.test(message)) {
    return fail(
      `ssh to ${at}: cannot use the private key (${ctx.credentials}): ${message}`,
      'ssh/auth-failed',
      'tsplay needs an unencrypted key file or a key loaded into ssh-agent (ssh-add).',
    );
  }
  if (level === 'protocol' || level === 'handshake' || /handshake|kex|No response from server/i.test(message)) {
    return lostDuringHandshake();
  }
  return fail(`ssh to ${at}: ${message}`, 'host/unreachable', 'Try `ssh -v` to the same address to see where it fails.');

  function timeout(): Classified {
    return fail(
      `ssh to ${at}: no answer within ${Math.round(ctx.connectTimeoutMs / 100) / 10} s`,
      'host/timeout',
      'Is the host up and reachable from here? A firewall that drops packets looks like this. On a slow link, raise the connect timeout.',
    );
  }

  function lostDuringHandshake(): Classified {
    return fail(
      `ssh to ${at}: the host closed the connection during the SSH handshake (${attempts} attempt${attempts === 1 ? '' : 's'})`,
      'host/connection-lost',
      'sshd may be overloaded (MaxStartups) or refusing this client (check its log, fail2ban, PerSourcePenalties); lower the parallelism or retry later.',
      true,
    );
  }
}

export function connectionLost(ctx: Pick<ConnectContext, 'host' | 'address' | 'port'>, why: string): UnreachableError {
  return new UnreachableError(
    `ssh to ${where(ctx)}: the connection was lost (${why})`,
    'host/connection-lost',
    'The host rebooted, sshd restarted, or the network dropped. Whatever was running there may or may not have finished.',
  );
}
