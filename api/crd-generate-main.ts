// `npm run gen:crds`: writes <plural>.shopfloor.dev.yaml from the zod schemas into crds/, the Helm
// chart's charts/shopfloor/crds/ and the kustomize base's deploy/base/crds/ (the same bytes: Helm
// installs CRDs only from its chart's crds/, kustomize reads files only below its base), and
// removes CRD files of kinds that no longer exist, so all three are exactly what the schemas say.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { crdFileName, crdYaml, customResourceDefinitions } from './crd.js';

for (const target of ['crds/', 'charts/shopfloor/crds/', 'deploy/base/crds/']) {
  const dir = fileURLToPath(new URL(`../${target}`, import.meta.url));
  await mkdir(dir, { recursive: true });
  const written = new Set<string>();
  for (const crd of customResourceDefinitions()) {
    const name = crdFileName(crd);
    await writeFile(`${dir}${name}`, crdYaml(crd));
    written.add(name);
    console.log(`wrote ${target}${name}`);
  }
  for (const name of await readdir(dir)) {
    if (name.endsWith('.yaml') && !written.has(name)) {
      await rm(`${dir}${name}`);
      console.log(`removed ${target}${name}`);
    }
  }
}
