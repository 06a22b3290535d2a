import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { bracketsTooDeep, MAX_DEPTH, YAML_OPTIONS, yamlProblems, yamlValue } from './files.js';

/** One problem in a file, located by line and field path. */
export interface FileIssue {
  file: string;
  line: number;
  field: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: FileIssue[] };

/** Finds the node at a path, or the deepest existing ancestor, to report a line for it. */
function nodeAt(root: unknown, path: PropertyKey[]): Node | undefined {
  let node = root as Node | undefined;
  let found = node;
  for (const key of path) {
    if (isMap(node)) node = node.get(key as string, true) as Node | undefined;
    else if (isSeq(node)) node = node.get(Number(key), true) as Node | undefined;
    else break;
    if (!node) break;
    found = node;
  }
  return found;
}

/**
 * Parses YAML or JSON text and validates it with a zod schema. Every problem comes back with
 * the file, the line and the field, for `presets validate` and for spec files.
 */
export function parseFile<S extends z.ZodType>(file: string, text: string, schema: S): Parsed<z.output<S>> {
  if (bracketsTooDeep(text)) return { ok: false, issues: [{ file, line: 1, field: '(syntax)', message: `nested more than ${MAX_DEPTH} levels deep` }] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter });
  const problems = yamlProblems(doc);
  if (problems.length) {
    return { ok: false, issues: problems.map((p) => ({ file, line: lineCounter.linePos(p.offset).line, field: '(syntax)', message: p.message })) };
  }
  const built = yamlValue(doc);
  if (!built.ok) return { ok: false, issues: [{ file, line: 1, field: '(file)', message: built.message }] };
  const result = schema.safeParse(built.value);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => {
      const node = nodeAt(doc.contents, issue.path);
      const line = node?.range ? lineCounter.linePos(node.range[0]).line : 1;
      const field = issue.path.length ? issue.path.join('.') : '(file)';
      return { file, line, field, message: issue.message };
    }),
  };
}

export const formatIssue = (i: FileIssue): string => `${i.file}:${i.line}: ${i.field}: ${i.message}`;
