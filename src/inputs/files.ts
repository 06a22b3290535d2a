import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/** A file the user named, as text; an unreadable one is a user error naming `where` and the path. */
export function readUserFile(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${where}: cannot read file "${file}"`);
  }
}
