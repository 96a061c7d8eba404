/**
 * The same problem on several hosts (a bad group variable, `-j32` in a play over all workers) is
 * one diagnostic naming them all: "… for hosts w1, w2" rather than one copy per host.
 */
import type { Diagnostic } from '../diagnostics.js';

export class HostMerger {
  private readonly seen = new Map<string, { d: Diagnostic; hosts: string[]; template: string }>();
  constructor(private readonly out: Diagnostic[]) {}

  add(d: Diagnostic, host: string): void {
    const phrase = new RegExp(`\\bhost ${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.-])`, 'g');
    const template = d.message.replace(phrase, '\u0000');
    const sig = `${d.code}|${d.file}|${d.line}|${d.column}|${template}`;
    const seen = this.seen.get(sig);
    if (!seen) {
      this.seen.set(sig, { d, hosts: [host], template });
      this.out.push(d);
    } else if (template.includes('\u0000') && !seen.hosts.includes(host)) {
      seen.hosts.push(host);
      seen.d.message = template.replace(/\u0000/g, `hosts ${seen.hosts.join(', ')}`);
    }
  }
}
