// `npm run gen:crds`: writes crds/<plural>.shopfloor.dev.yaml from the zod schemas and removes
// CRD files of kinds that no longer exist, so crds/ is exactly what the schemas say.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { crdFileName, crdYaml, customResourceDefinitions } from './crd.js';

const dir = fileURLToPath(new URL('../crds/', import.meta.url));
await mkdir(dir, { recursive: true });
const written = new Set<string>();
for (const crd of customResourceDefinitions()) {
  const name = crdFileName(crd);
  await writeFile(`${dir}${name}`, crdYaml(crd));
  written.add(name);
  console.log(`wrote crds/${name}`);
}
for (const name of await readdir(dir)) {
  if (name.endsWith('.yaml') && !written.has(name)) {
    await rm(`${dir}${name}`);
    console.log(`removed crds/${name}`);
  }
}
