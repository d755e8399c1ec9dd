#!/usr/bin/env node
// `npx authwatch ...` in a clone (package.json "bin"): runs the TypeScript command line without a build step.
// tsx's loader is registered for this process only, then cli/authwatch.ts is imported and run.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/authwatch.ts');
await run(process.argv.slice(2));
