// chalk detects colour support for its default instances (chalk, chalkStderr) when it is
// imported, through node:tty, which loads node:net and the stream modules: about 3 ms of every
// run. llm-size never uses those instances: each Chalk it makes is given its level
// (src/format/table.ts makeChalk, src/format/chart.ts), which src/cli.ts decides from the
// environment and whether stdout is a terminal. The bundle (scripts/bundle.ts) gives chalk this
// module in place of its vendored supports-color: no colour for the unused defaults.
export default { stdout: false, stderr: false };
