// Layering that points one way: no import cycles in lambdas/, the domain (lambdas/dicom) imports neither HTTP nor
// storage, and the store does not import HTTP. Every import counts: type-only, re-exports and import() alike.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

type ImportGraph = Map<string, string[]>;

/** Every .ts file under `dir`, relative to the repository root. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort();
}

/** File -> the project files it imports (packages left out), as the TypeScript compiler's pre-processor reads them. */
function importGraph(dir: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(dir)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => relative(ROOT, resolve(ROOT, dirname(file), specifier.replace(/\.js$/, '.ts'))));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The import cycles: strongly connected components of more than one file, or a file importing itself (Tarjan). */
function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)!.includes(file)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

interface LayerRule {
  /** Files under this folder ... */
  from: string;
  /** ... may import nothing under these (folders end with '/', single modules are named whole). */
  forbidden: readonly string[];
  why: string;
}

/** The same rules eslint.config.js states with no-restricted-imports, for every kind of import. */
const LAYER_RULES: readonly LayerRule[] = [
  {
    from: 'lambdas/dicom/',
    forbidden: [
      'lambdas/http/',
      'lambdas/store/',
      'lambdas/ingest/',
      'lambdas/dicomweb/',
      'lambdas/handlers/',
      'lambdas/web/',
      'lambdas/commons.ts',
      'lambdas/routes.ts',
    ],
    why: 'the domain is pure: its errors, types and vocabulary are its own, mapped at the edge',
  },
  {
    from: 'lambdas/store/',
    forbidden: [
      'lambdas/http/',
      'lambdas/ingest/',
      'lambdas/dicomweb/',
      'lambdas/handlers/',
      'lambdas/web/',
      'lambdas/commons.ts',
      'lambdas/routes.ts',
    ],
    why: 'the store answers in states and its own errors; HTTP is decided at the edge',
  },
];

function layerViolations(graph: ImportGraph, rules: readonly LayerRule[]): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    for (const rule of rules.filter((r) => file.startsWith(r.from))) {
      for (const target of targets) {
        if (rule.forbidden.some((forbidden) => target === forbidden || target.startsWith(forbidden))) {
          found.push(`${file} imports ${target} (${rule.why})`);
        }
      }
    }
  }
  return found;
}

describe('layering of lambdas/', () => {
  const graph = importGraph('lambdas');

  it('reads the real import graph', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('lambdas/handlers/png.ts')).toContain('lambdas/http/handler.ts');
    // Type-only imports, re-exports and import() count too.
    expect(graph.get('lambdas/store/records.ts')).toContain('lambdas/dicom/model.ts');
    expect(graph.get('lambdas/store/queries.ts')).toContain('lambdas/store/records.ts');
    expect(graph.get('lambdas/dicom/codecs/index.ts')).toContain('lambdas/dicom/codecs/charls.ts');
  });

  it('has no import cycles', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('imports only downwards: the domain neither HTTP nor storage, the store not HTTP', () => {
    expect(layerViolations(graph, LAYER_RULES)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    const bad: ImportGraph = new Map([
      ['lambdas/store/records.ts', ['lambdas/store/queries.ts', 'lambdas/dicom/model.ts']],
      ['lambdas/store/queries.ts', ['lambdas/store/records.ts']],
      ['lambdas/dicom/pixels.ts', ['lambdas/http/errors.ts', 'lambdas/dicom/errors.ts']],
      ['lambdas/dicom/model.ts', []],
      ['lambdas/dicom/errors.ts', []],
      ['lambdas/http/errors.ts', []],
    ]);
    expect(importCycles(bad)).toEqual([['lambdas/store/queries.ts', 'lambdas/store/records.ts']]);
    expect(layerViolations(bad, LAYER_RULES)).toEqual([
      `lambdas/dicom/pixels.ts imports lambdas/http/errors.ts (${LAYER_RULES[0]!.why})`,
    ]);
  });
});
