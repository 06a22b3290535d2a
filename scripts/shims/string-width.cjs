// cli-table3 measures every cell with string-width, whose emoji regex costs about 10 ms to
// compile on its first use: more than the rest of a table. A string of printable ASCII is one
// column per character (string-width agrees: no escape code, no emoji, nothing wide or
// zero-width), so only other strings go to string-width. The bundle (scripts/bundle.ts) gives
// cli-table3 this module in its place; test/startup.test.ts checks that both agree.
const stringWidth = require('string-width');

module.exports = (text) => (typeof text === 'string' && /^[\x20-\x7e]*$/.test(text) ? text.length : stringWidth(text));
