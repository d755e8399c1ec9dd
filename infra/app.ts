/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`): read the context, validate it completely, build the stack.
 * A configuration problem stops synth with every issue listed and the key path to fix; nothing is deployed
 * that the operator did not set (cdk.json carries no example values).
 */
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../shared/errors';
import { loadDeployConfig, type DeployConfig } from './config';
import { AuthwatchStack } from './stack';

/** Build the app's stack on an existing App (tests pass their own App and context). */
export function buildApp(
  app: App,
  config: DeployConfig = loadDeployConfig(app.node.getAllContext() as Record<string, unknown>),
): AuthwatchStack {
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new AuthwatchStack(app, config.stackName, {
    config,
    description:
      'authwatch: detects rare users and unusual source IPs in logon logs (Elastic security_auth ML rules, ported)',
    ...(account && region ? { env: { account, region } } : {}),
    tags: { application: 'authwatch' },
  });
  // Deployed, but likely a mistake (an allowlist entry whose day is over): `cdk synth`/`cdk deploy` print each.
  for (const warning of config.warnings) Annotations.of(stack).addWarningV2('authwatch:config', warning);
  // The AWS Solutions checks run on every synth, so `cdk synth`/`cdk deploy` fail on an unacknowledged finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

/** Printed under the issues: where settings go, and the worked example to start from. */
export const CONFIG_HELP = [
  'Set them per key on the command line: npx cdk deploy -c authwatch.<key>=<value> (JSON, or a,b,c for lists),',
  'or as one object: -c authwatch="$(cat authwatch.json)", or under "context" → "authwatch" in your cdk.json.',
  'Worked example to copy and edit: examples/deploy/authwatch.json. Every key: docs/deploy.md#configure.',
].join('\n');

function main(): void {
  const app = new App();
  try {
    buildApp(app);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n\n${CONFIG_HELP}\n`);
      process.exit(1);
    }
    throw e;
  }
  app.synth();
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();
