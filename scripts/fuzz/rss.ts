import { writeSync } from 'node:fs';

/**
 * Preloaded into each binary `npm run fuzz` spawns (node --import): at exit, writes the
 * process's peak resident set size in KiB (process.resourceUsage().maxRSS) to file descriptor 3,
 * which the fuzz script reads. A process that V8 aborts writes nothing, and that is reported.
 */
process.on('exit', () => {
  try {
    writeSync(3, String(process.resourceUsage().maxRSS));
  } catch {
    // fd 3 is not open: not run by the fuzz script
  }
});
