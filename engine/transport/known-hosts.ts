/**
 * OpenSSH known_hosts: parsing, host matching and host-key verification.
 *
 * Supported: plain host lists with `*`/`?` wildcards and `!negation`, `[host]:port` names for
 * non-22 ports, hashed names (`|1|salt|hmac`, HMAC-SHA1 of the name keyed by the salt), comments,
 * `@revoked` lines (the key is refused), `@cert-authority` lines (skipped: no certificate support).
 */
import { createHash, createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export type KnownHostMarker = 'revoked' | 'cert-authority';

export interface KnownHostEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: KnownHostMarker;
  /** The host field as written: a comma-separated pattern list or one hashed name. */
  hosts: string;
  /** Key type as written on the line (e.g. `ssh-ed25519`). */
  keyType: string;
  /** The decoded public key blob. */
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'match'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  | { status: 'changed'; entries: KnownHostEntry[] }
  | { status: 'unknown'; otherTypes: string[] };

/** The name OpenSSH looks up: `host`, or `[host]:port` when the port is not 22. */
export function knownHostName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Parses known_hosts text. Malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, keyBase64] = fields as [string, string, string];
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) continue;
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length === 0) continue;
    entries.push({ line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** Does the entry's host field match `name` (as built by knownHostName)? */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  const lower = name.toLowerCase();
  if (entry.hosts.startsWith('|')) return hashedNameMatches(entry.hosts, lower);
  let matched = false;
  for (const pattern of entry.hosts.split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (wildcardMatch(body, lower)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function hashedNameMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  // ['', '1', salt, hmac]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const expected = Buffer.from(parts[3]!, 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && expected.equals(actual);
}

/** OpenSSH pattern matching: `*` any run, `?` one character; everything else literal. */
function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** The algorithm name inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len > 64 || 4 + len > blob.length) return 'unknown';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:...` as printed by `ssh-keygen -lf` and by ssh itself. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Checks a presented host key against the entries for `name`. */
export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const type = keyTypeOf(key);
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === undefined);
  const match = plain.find((e) => e.key.equals(key));
  if (match) return { status: 'match', entry: match };
  const sameType = plain.filter((e) => keyTypeOf(e.key) === type);
  if (sameType.length > 0) return { status: 'changed', entries: sameType };
  return { status: 'unknown', otherTypes: [...new Set(plain.map((e) => keyTypeOf(e.key)))] };
}

/** Key types recorded for `name` (to ask the server for a key we can actually verify). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types = entries
    .filter((e) => e.marker === undefined && entryMatchesHost(e, name))
    .map((e) => keyTypeOf(e.key));
  return [...new Set(types)];
}

/** Parsed files by path, with the stat they were parsed at (see readKnownHosts). */
const parsedFiles = new Map<string, { stamp: string; entries: Promise<readonly KnownHostEntry[]> }>();

/**
 * Reads and parses a known_hosts file; a missing file is an empty list. Every host of a run reads
 * the same file as it connects: the file is parsed once while its device, inode, size, mtime and
 * ctime stay the same (a stat per call), so a run on n hosts no longer reads and parses it n times. The
 * entries are frozen: every caller shares them. An edit (ssh-keygen -R, an append by
 * --trust-new-host-keys) changes the stat, and the next call reads the file again. (An edit that
 * keeps the size within the same tick of the kernel's coarse file clock, a few ms, after a stat
 * could go unseen by that one call, as it would by a read made a few ms earlier.)
 */
export async function readKnownHosts(file: string): Promise<readonly KnownHostEntry[]> {
  let stamp: string;
  try {
    const st = await fs.stat(file, { bigint: true });
    stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const cached = parsedFiles.get(file);
  if (cached?.stamp === stamp) return cached.entries;
  const entries = fs.readFile(file, 'utf8').then(
    (text) => Object.freeze(parseKnownHosts(text).map((e) => Object.freeze(e))),
    (err: NodeJS.ErrnoException) => {
      if (parsedFiles.get(file)?.entries === entries) parsedFiles.delete(file);
      if (err.code === 'ENOENT') return [];
      throw err;
    },
  );
  parsedFiles.set(file, { stamp, entries });
  return entries;
}

let appendQueue: Promise<unknown> = Promise.resolve();

/**
 * Appends `name keytype base64` to the file (created 0600, its directory 0700, if missing).
 * Appends within this process are serialized, and a key already recorded is not written twice.
 */
export function appendKnownHost(file: string, name: string, key: Buffer): Promise<void> {
  const run = appendQueue.then(async () => {
    const existing = await readKnownHosts(file);
    if (existing.some((e) => e.marker === undefined && entryMatchesHost(e, name) && e.key.equals(key))) return;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const handle = await fs.open(file, 'a+', 0o600);
    try {
      const { size } = await handle.stat();
      let prefix = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
      await handle.appendFile(`${prefix}${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`);
    } finally {
      await handle.close();
    }
  });
  appendQueue = run.catch(() => undefined);
  return run;
}
