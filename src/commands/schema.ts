import { Argument, Command } from 'commander';
import { renderJson } from '../format/json.js';
import type { Context } from './context.js';

/**
 * `llm-size schema <model|hardware|spec>`: the JSON Schema of a preset or spec file, generated
 * from the zod schemas that check them (src/inputs/schema.ts), for editors and CI:
 *   # yaml-language-server: $schema=./hardware.schema.json
 */
export const SCHEMA_KINDS = ['model', 'hardware', 'spec', 'output'] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];

export function schemaCommand(ctx: Context): Command {
  return new Command('schema')
    .description('print the JSON Schema of a model preset, hardware preset or spec file, or of --format json output')
    .addArgument(new Argument('<kind>', SCHEMA_KINDS.join(', ')).choices(SCHEMA_KINDS))
    .addHelpText('after', `
Examples:
  llm-size schema hardware > hardware.schema.json
  llm-size schema output > llm-size-output.schema.json   (the stable --format json contract)
  then, first line of a preset:  # yaml-language-server: $schema=./hardware.schema.json`)
    .action(async (kind: SchemaKind) => {
      if (kind === 'output') {
        // hand-written JSON Schema of the output contract (src/inputs/output-schema.ts)
        const { OUTPUT_SCHEMA } = await import('../inputs/output-schema.js');
        return ctx.out(renderJson(OUTPUT_SCHEMA));
      }
      const { toJsonSchema } = await import('../inputs/schema.js');
      ctx.out(renderJson(toJsonSchema(kind)));
    });
}
