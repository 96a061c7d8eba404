/**
 * A small real C project (the CI stand-in for the kernel tree): N translation units that include
 * local headers and libc headers, a Makefile with `all` and `clean`, linked into one program that
 * prints a checksum. Enough work per file that distcc ships it to the workers.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeCTree(dir: string, units = 24): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'include'), { recursive: true });
  writeFileSync(path.join(dir, 'include', 'tree.h'), [
    '#ifndef TREE_H', '#define TREE_H', '#include <stdint.h>', '#include "mix.h"',
    ...Array.from({ length: units }, (_, i) => `uint64_t unit_${i}(uint64_t seed);`), '#endif', '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'include', 'mix.h'), [
    '#ifndef MIX_H', '#define MIX_H', '#include <stdint.h>',
    'static inline uint64_t mix(uint64_t x) { x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; return x; }',
    '#endif', '',
  ].join('\n'));
  for (let i = 0; i < units; i++) {
    // Several functions per unit so each compile takes a noticeable moment at -O2.
    const fns = Array.from({ length: 12 }, (_, k) => [
      `static uint64_t f${k}(uint64_t x) {`,
      `  for (int r = 0; r < ${8 + k}; r++) { x = mix(x + ${i * 131 + k}ULL); if (x % ${k + 3} == 0) x ^= x << ${(k % 7) + 1}; }`,
      '  return x;', '}',
    ].join('\n'));
    writeFileSync(path.join(dir, `unit_${i}.c`), [
      '#include <string.h>', '#include <stdio.h>', '#include "tree.h"', ...fns,
      `uint64_t unit_${i}(uint64_t seed) {`, '  uint64_t x = seed;',
      ...Array.from({ length: 12 }, (_, k) => `  x = f${k}(x);`), '  return x;', '}', '',
    ].join('\n'));
  }
  writeFileSync(path.join(dir, 'main.c'), [
    '#include <stdio.h>', '#include <inttypes.h>', '#include "tree.h"',
    'int main(void) {', '  uint64_t x = 1;',
    ...Array.from({ length: units }, (_, i) => `  x = unit_${i}(x);`),
    '  printf("%016" PRIx64 "\\n", x);', '  return 0;', '}', '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'Makefile'), [
    'CC ?= gcc', 'CFLAGS ?= -O2 -Wall', 'CPPFLAGS += -Iinclude',
    `OBJS := main.o ${Array.from({ length: units }, (_, i) => `unit_${i}.o`).join(' ')}`,
    'all: tree', 'tree: $(OBJS)', '\t$(CC) -o $@ $(OBJS)',
    '%.o: %.c include/tree.h include/mix.h', '\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<',
    'clean:', '\trm -f tree $(OBJS)', '.PHONY: all clean', '',
  ].join('\n'));
}
