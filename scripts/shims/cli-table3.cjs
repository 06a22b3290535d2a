// cli-table3 (with @colors/colors) takes about a millisecond to load, and most tables never need
// it: an uncoloured table that fits is drawn without it (src/format/table.ts plainTable). The
// bundle (scripts/bundle.ts) gives src/format this constructor in its place, which loads the
// real cli-table3 on the first table that needs it.
let Table;
module.exports = function LazyTable(options) {
  Table ??= require('cli-table3');
  return new Table(options);
};
