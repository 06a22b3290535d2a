/**
 * Output that fits a terminal. The width to fit: `--wide` none; else `COLUMNS` when set (it
 * overrides); else the terminal's width when stdout is one; else none (piped output keeps
 * whole lines, so scripts and `grep` see one record per line).
 */
export function outputWidth(env: Record<string, string | undefined>, isTty: boolean, terminalColumns: number | undefined, wide: boolean): number {
  if (wide) return Infinity;
  const columns = Number(env.COLUMNS);
  if (env.COLUMNS !== undefined && Number.isInteger(columns) && columns >= 20) return columns;
  if (isTty && terminalColumns !== undefined && terminalColumns >= 20) return terminalColumns;
  return Infinity;
}

/** Characters a line shows: ANSI colour codes take no room. */
export const visibleLength = (text: string): number => text.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Width of a multi-line text: its longest line. */
export const blockWidth = (text: string): number => Math.max(0, ...text.split('\n').map(visibleLength));

/**
 * Word-wraps one line of text to `width`, continuation lines indented by `indent` beyond the
 * line's own leading spaces. A word longer than the width stays whole on its own line.
 */
export function wrapLine(text: string, width: number, indent = ''): string {
  if (!Number.isFinite(width) || visibleLength(text) <= width) return text;
  // a line's own leading spaces stay, and its continuation lines go that much deeper
  const lead = /^ */.exec(text)![0];
  const words = text.slice(lead.length).split(' ');
  const lines: string[] = [];
  let line = lead;
  for (const word of words) {
    const candidate = line === lead ? `${lead}${word}` : `${line} ${word}`;
    if (line !== lead && visibleLength(candidate) > width) {
      lines.push(line);
      line = `${lead}${indent}${word}`;
    } else line = candidate;
  }
  lines.push(line);
  return lines.join('\n');
}

/**
 * Word-wraps every line of a block but table rows (fitted by the table itself). The box
 * characters are escaped: the bundle is read as latin1 (src/boot.ts) and esbuild leaves
 * regular expressions as written.
 */
export const wrapText = (text: string, width: number, indent = ''): string =>
  text.split('\n').map((line) => (/^(\x1b\[[0-9;]*m)*[\u2502\u250c\u2514\u251c]/.test(line) ? line : wrapLine(line, width, indent))).join('\n');

/**
 * A shell command broken before its options with a trailing backslash, so it fits `width`
 * and can still be pasted into a shell: `vllm serve repo \` / `    --tensor-parallel-size 2 ...`.
 */
export function wrapCommand(command: string, width: number, indent = '  '): string {
  if (!Number.isFinite(width) || indent.length + command.length <= width) return `${indent}${command}`;
  const parts = command.split(/ (?=--)/);
  const lines: string[] = [];
  let line = `${indent}${parts[0]}`;
  for (const part of parts.slice(1)) {
    if (line.length + 1 + part.length + 2 > width) {
      lines.push(`${line} \\`);
      line = `${indent}    ${part}`;
    } else line = `${line} ${part}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/** "16.22 GiB (15.7-17.3)" -> "16.22 GiB\n(15.7-17.3)": a figure's band on a second line (figures only, not labels such as "... (vLLM)"). */
export const bandOnSecondLine = (cell: string): string => (/^[-~$]?\d/.test(cell) ? cell.replace(/ (\([^()]*\))$/, '\n$1') : cell);
