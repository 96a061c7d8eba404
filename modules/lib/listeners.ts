/**
 * TCP listeners on a host, from `ss -ltnH` (iproute2) or, where ss is missing, from the kernel's
 * /proc/net/tcp and /proc/net/tcp6 tables. Pure parsing: the module fetches the text.
 */
export interface Listener {
  /** Local address without brackets: `10.177.0.101`, `0.0.0.0`, `::`. */
  address: string;
  port: number;
}

/** `ss -ltnH` lines: `LISTEN 0 1024 10.177.0.101:3632 0.0.0.0:*` (also `[::]:22`, `127.0.0.53%lo:53`, `*:80`). */
export function parseSs(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const local = cols[3]!;
    const i = local.lastIndexOf(':');
    if (i < 0) continue;
    const port = Number(local.slice(i + 1));
    if (!Number.isInteger(port)) continue;
    let address = local.slice(0, i).replace(/%[^\]]*$/, '');
    if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
    address = address.replace(/%.*$/, '');
    // ss prints a dual-stack IPv6 wildcard (v6only off) as `*`; the kernel's table says `::`.
    if (address === '*') address = '::';
    out.push({ address, port });
  }
  return out;
}

const TCP_LISTEN = '0A';

/**
 * /proc/net/tcp{,6}: `sl local_address rem_address st ...`, addresses as hex in the kernel's
 * byte order — each 32-bit word of the address is printed as a little-endian integer on the
 * machines tsplay meets (x86_64, arm), so the bytes of every word read backwards.
 */
export function parseProcNetTcp(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] !== TCP_LISTEN) continue;
    const [hexAddr, hexPort] = cols[1]!.split(':');
    if (!hexAddr || !hexPort) continue;
    const port = Number.parseInt(hexPort, 16);
    const address = hexAddr.length === 8 ? ipv4(hexAddr) : hexAddr.length === 32 ? ipv6(hexAddr) : undefined;
    if (address === undefined || !Number.isInteger(port)) continue;
    out.push({ address, port });
  }
  return out;
}

function wordBytes(hex8: string): number[] {
  const b = [0, 2, 4, 6].map((i) => Number.parseInt(hex8.slice(i, i + 2), 16));
  return b.reverse();
}

function ipv4(hex: string): string {
  return wordBytes(hex).join('.');
}

function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8)));
  // IPv4-mapped (::ffff:a.b.c.d) as ss prints it.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressIpv6(groups);
}

/** RFC 5952: the longest run (≥ 2) of zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Listeners on `port` that accept connections to `host` (the address itself or a wildcard); any address when host is undefined. */
export function matching(listeners: Listener[], port: number, host?: string): Listener[] {
  return listeners.filter((l) => l.port === port && (host === undefined || l.address === host || WILDCARDS.has(l.address) || l.address === `::ffff:${host}`));
}

export function formatListener(l: Listener): string {
  return l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}
