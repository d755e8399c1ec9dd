/** `npm run demo:regen`: rewrite examples/demo/ from the demo seed (see cli/scenario/demo.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DIR } from './paths';
import { demoSample, labelsJson } from './scenario/demo';

const { log, labels, networkData } = demoSample();
mkdirSync(DEMO_DIR, { recursive: true });
writeFileSync(join(DEMO_DIR, 'auth.log'), log);
writeFileSync(join(DEMO_DIR, 'labels.json'), labelsJson(labels));
writeFileSync(join(DEMO_DIR, 'network-data.tsv'), networkData);
process.stderr.write(
  `wrote ${join(DEMO_DIR, 'auth.log')} (${labels.meta.events} lines, ${labels.users.length} users, ${labels.incidents.length} attacks)` +
    ` and ${join(DEMO_DIR, 'network-data.tsv')} (${networkData.split('\n').length - 1} rows of real networks: see NOTICE)\n`,
);
