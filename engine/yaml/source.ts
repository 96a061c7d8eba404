/**
 * YAML loading that keeps every node's (file, line, column), as Ansible's AnsibleBaseYAMLObject
 * does. Values come back as plain JS; a WeakMap remembers where each object/array and each of its
 * keys and values came from, so later passes (schema, doctrine, templates) can point at the line.
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode, Document } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { syntaxDiagnostics } from './syntax-errors.js';

export interface Loc {
  line: number;
  column: number;
}

interface ContainerLocs {
  self: Loc;
  keys: Map<string, Loc>;
  values: Map<string | number, Loc>;
  /** Offset into the scalar's source where its content starts (for plain and quoted single-line scalars). */
  valueStyles: Map<string | number, string>;
}

export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_NODES = 200_000;
export const MAX_DEPTH = 200;

export class SourceFile {
  readonly lines: string[];
  /** Where the document's value starts (a root scalar has no container to remember it by). */
  root?: Loc;
  private readonly locs = new WeakMap<object, ContainerLocs>();
  constructor(
    readonly path: string,
    readonly text: string,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  lineText(line: number): string | undefined {
    return this.lines[line - 1];
  }

  /** @internal */
  remember(obj: object, locs: ContainerLocs): void {
    this.locs.set(obj, locs);
  }

  /** Makes `target[targetKey]` report the position of `from[fromKey]` (e.g. a free-form module string). */
  alias(target: object, targetKey: string, from: object, fromKey: string): void {
    const src = this.locs.get(from);
    if (!src) return;
    const keyLoc = src.keys.get(fromKey) ?? src.self;
    const valueLoc = src.values.get(fromKey) ?? keyLoc;
    const style = src.valueStyles.get(fromKey);
    const mine = this.locs.get(target) ?? { self: valueLoc, keys: new Map(), values: new Map(), valueStyles: new Map() };
    mine.keys.set(targetKey, keyLoc);
    mine.values.set(targetKey, valueLoc);
    if (style) mine.valueStyles.set(targetKey, style);
    this.locs.set(target, mine);
  }

  /** Where `obj` (or its `key`'s key or value) is. Falls back to the container itself. */
  locate(obj: unknown, key?: string | number, which: 'key' | 'value' = 'value'): Loc | undefined {
    if (obj === null || typeof obj !== 'object') return undefined;
    const l = this.locs.get(obj);
    if (!l) return undefined;
    if (key === undefined) return l.self;
    if (which === 'key' && typeof key === 'string') return l.keys.get(key) ?? l.values.get(key) ?? l.self;
    return l.values.get(key) ?? l.keys.get(String(key)) ?? l.self;
  }

  /** The position of character `offset` inside the string value at (obj, key), when it is a single-line scalar. */
  locateInValue(obj: unknown, key: string | number, offset: number): Loc | undefined {
    const base = this.locate(obj, key);
    if (!base || obj === null || typeof obj !== 'object') return base;
    const style = this.locs.get(obj)?.valueStyles.get(key);
    const text = this.lineText(base.line) ?? '';
    const value = (obj as Record<string | number, unknown>)[key];
    if (typeof value !== 'string' || value.includes('\n')) return base;
    // Find the value on its line (plain or quoted) and move the caret onto the offset.
    const quote = style === 'QUOTE_DOUBLE' ? 1 : style === 'QUOTE_SINGLE' ? 1 : 0;
    const start = base.column - 1 + quote;
    // Only when the value is written right there (not an alias or a merged key whose text is elsewhere).
    if (text.slice(start, start + value.length) === value) {
      return { line: base.line, column: start + offset + 1 };
    }
    return base;
  }

  diag(code: string, message: string, at: Loc | undefined, hint?: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
    return {
      code,
      message,
      severity,
      file: this.path,
      line: at?.line,
      column: at?.column,
      sourceLine: at ? this.lineText(at.line) : undefined,
      hint,
    };
  }
}

export interface LoadedYaml {
  value: unknown;
  source: SourceFile;
  diagnostics: Diagnostic[];
}

/** Reads and parses a YAML file. Never throws for bad input: problems come back as diagnostics. */
export function loadYamlFile(path: string, displayPath = path): LoadedYaml {
  let text: string;
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      const source = new SourceFile(displayPath, '');
      return { value: undefined, source, diagnostics: [source.diag('file/is-directory', `${displayPath} is a directory, not a YAML file`, undefined)] };
    }
    if (st.size > MAX_FILE_BYTES) {
      const source = new SourceFile(displayPath, '');
      return {
        value: undefined,
        source,
        diagnostics: [source.diag('yaml/too-large', `${displayPath} is ${st.size} bytes; tsplay reads YAML files up to ${MAX_FILE_BYTES} bytes`, undefined, 'split it into smaller files')],
      };
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const source = new SourceFile(displayPath, '');
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    return { value: undefined, source, diagnostics: [source.diag('file/unreadable', `cannot read ${displayPath}: ${why}`, undefined)] };
  }
  return parseYaml(text, displayPath);
}

export function parseYaml(text: string, displayPath: string): LoadedYaml {
  const source = new SourceFile(displayPath, text);
  const diagnostics: Diagnostic[] = [];
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    diagnostics.push(source.diag('yaml/too-large', `${displayPath} is larger than ${MAX_FILE_BYTES} bytes`, undefined));
    return { value: undefined, source, diagnostics };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, merge: true, uniqueKeys: true, strict: true });
  diagnostics.push(...syntaxDiagnostics(text, doc.errors, lc, source));
  if (diagnostics.length) return { value: undefined, source, diagnostics };
  const pos = (n: YamlNode | null | undefined): Loc => {
    const off = n?.range?.[0] ?? 0;
    const p = lc.linePos(off);
    return { line: p.line, column: p.col };
  };
  // `outer` is the outermost alias being expanded: a bomb is reported where the document uses it.
  const budget: { nodes: number; bombed: boolean; at?: Loc; deep?: boolean } = { nodes: 0, bombed: false };
  const bomb = (at: Loc, deep = false): null => {
    if (!budget.bombed) Object.assign(budget, { at, deep });
    budget.bombed = true;
    return null;
  };
  const unknownAliases = new Set<unknown>();
  const convert = (node: unknown, depth: number, aliasDepth: number, outer?: Loc): unknown => {
    if (budget.bombed) return null;
    if (++budget.nodes > MAX_NODES) return bomb(outer ?? pos(node as YamlNode));
    if (depth > MAX_DEPTH) return bomb(outer ?? pos(node as YamlNode), outer === undefined);
    if (isAlias(node)) {
      const target = node.resolve(doc as Document);
      if (target === undefined) {
        // Once per alias in the text, however often an enclosing anchor repeats it.
        if (unknownAliases.has(node)) return null;
        unknownAliases.add(node);
        diagnostics.push(source.diag('yaml/unknown-alias', `alias *${node.source} refers to no anchor &${node.source} defined before it`, pos(node), 'define the anchor (&name) before the alias that uses it'));
        return null;
      }
      if (aliasDepth > 20) return bomb(outer ?? pos(node));
      return convert(target, depth + 1, aliasDepth + 1, outer ?? pos(node));
    }
    if (isScalar(node)) return node.value;
    if (isSeq(node)) {
      const arr: unknown[] = [];
      const locs: ContainerLocs = { self: pos(node), keys: new Map(), values: new Map(), valueStyles: new Map() };
      node.items.forEach((item, i) => {
        arr.push(convert(item, depth + 1, aliasDepth, outer));
        locs.values.set(i, pos(item as YamlNode));
        if (isScalar(item) && item.type) locs.valueStyles.set(i, item.type);
      });
      source.remember(arr, locs);
      return arr;
    }
    if (isMap(node)) {
      const obj: Record<string, unknown> = {};
      const locs: ContainerLocs = { self: pos(node), keys: new Map(), values: new Map(), valueStyles: new Map() };
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as YamlNode | null;
        // With `merge: true` the yaml library resolves a plain `<<` key to Symbol('<<').
        const isMerge = isScalar(keyNode) && typeof keyNode.value === 'symbol' && keyNode.value.description === '<<';
        const rawKey = isScalar(keyNode) ? keyNode.value : convert(keyNode, depth + 1, aliasDepth, outer);
        const key = isMerge ? '<<' : String(rawKey);
        if (isMerge) {
          // Merge key: values already present in this map win.
          const merged = convert(pair.value, depth + 1, aliasDepth, outer);
          const sources = Array.isArray(merged) ? merged : [merged];
          for (const src of sources) {
            if (src && typeof src === 'object' && !Array.isArray(src)) {
              for (const [k, v] of Object.entries(src)) {
                if (!(k in obj)) {
                  obj[k] = v;
                  locs.keys.set(k, pos(keyNode));
                  locs.values.set(k, pos(pair.value as YamlNode));
                }
              }
            }
          }
          continue;
        }
        Object.defineProperty(obj, key, { value: convert(pair.value, depth + 1, aliasDepth, outer), enumerable: true, writable: true, configurable: true });
        locs.keys.set(key, pos(keyNode));
        locs.values.set(key, pair.value ? pos(pair.value as YamlNode) : pos(keyNode));
        if (isScalar(pair.value) && pair.value.type) locs.valueStyles.set(key, pair.value.type);
      }
      source.remember(obj, locs);
      return obj;
    }
    return node === null || node === undefined ? null : node;
  };
  source.root = pos(doc.contents as YamlNode);
  const value = convert(doc.contents, 0, 0);
  if (budget.bombed && budget.deep) {
    diagnostics.push(source.diag('yaml/too-deep', `${displayPath} nests more than ${MAX_DEPTH} levels deep`, budget.at, 'flatten the structure'));
  } else if (budget.bombed) {
    diagnostics.push(
      source.diag('yaml/alias-bomb', `${displayPath} expands to more than ${MAX_NODES} nodes or nests too deeply through aliases (YAML alias bomb?)`, budget.at, 'remove the recursive or exponential anchors/aliases'),
    );
  }
  if (diagnostics.length) return { value: undefined, source, diagnostics };
  return { value, source, diagnostics };
}
