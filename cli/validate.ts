// `shopfloor validate <file...>`: checks manifests offline and prints every field error the
// operator would report, one per line, so that a bad NodeWorkload is fixed before `kubectl apply`.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkManifest, formatFieldError, type ManifestDocument } from '../api/index.js';
import { UsageError, type Command } from './command.js';

const usage = `usage: shopfloor validate <file...>

Checks every document of each YAML file (use - for standard input) against the
shopfloor.dev/v1alpha1 schemas: NodeWorkload, NodeAssignment and NodeAgent. Objects of other
API groups are listed as not checked. Prints each error as
  <file> doc <N> <Kind>/<name>: <field>: <what is allowed>
and exits 1 on any error (or when no file holds a Shopfloor object), 0 otherwise.`;

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function label(file: string, doc: ManifestDocument): string {
  return `${file} doc ${doc.index}${doc.kind ? ` ${doc.kind}/${doc.name ?? '(no name)'}` : ''}`;
}

export const validateCommand: Command = {
  summary: 'Check NodeWorkload (and other Shopfloor) YAML offline, printing every field error.',
  usage,
  async run(argv) {
    let files: string[];
    try {
      files = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} }).positionals;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (files.length === 0) throw new UsageError('name at least one file (or - for standard input)');

    let errors = 0;
    let checked = 0;
    let foreign = 0;
    for (const file of files) {
      const shown = file === '-' ? '<stdin>' : file;
      let text: string;
      try {
        text = await readInput(file);
      } catch (err) {
        console.log(`${shown}: cannot read: ${(err as Error).message}`);
        errors++;
        continue;
      }
      for (const doc of checkManifest(text)) {
        if (doc.verdict === 'foreign') {
          console.log(`${shown} doc ${doc.index} ${doc.apiVersion} ${doc.kind}/${doc.name}: not a Shopfloor kind, not checked`);
          foreign++;
        } else if (doc.verdict === 'invalid') {
          for (const e of doc.errors) console.log(`${label(shown, doc)}: ${formatFieldError(e)}`);
          errors += doc.errors.length;
        } else {
          checked++;
        }
      }
    }
    if (errors > 0) {
      console.log(`${errors} error${errors === 1 ? '' : 's'}`);
      return 1;
    }
    if (checked === 0) {
      console.log(`no Shopfloor objects found in ${files.map((f) => (f === '-' ? '<stdin>' : f)).join(', ')}`);
      return 1;
    }
    const skipped = foreign ? `; ${foreign} of other kinds not checked` : '';
    console.log(`OK: ${checked} Shopfloor object${checked === 1 ? '' : 's'} valid${skipped}`);
    return 0;
  },
};
