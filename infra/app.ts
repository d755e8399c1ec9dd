/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`): read the context, validate it completely, build the stack.
 * A configuration problem stops synth with every issue listed and the key path to fix.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../shared/errors';
import { loadDeployConfig, type DeployConfig } from './config';
import { AuthwatchStack } from './stack';

/** Build the app's stack on an existing App (tests pass their own App and context). */
export function buildApp(app: App, config: DeployConfig = loadDeployConfig((k) => app.node.tryGetContext(k))): AuthwatchStack {
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new AuthwatchStack(app, config.stackName, {
    config,
    description: 'authwatch: detects rare users and unusual source IPs in logon logs (Elastic security_auth ML rules, ported)',
    ...(account && region ? { env: { account, region } } : {}),
    tags: { application: 'authwatch' },
  });
  // The AWS Solutions checks run on every synth, so `cdk synth`/`cdk deploy` fail on an unacknowledged finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

function main(): void {
  const app = new App();
  try {
    buildApp(app);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n\nSet these in cdk.json "context" → "authwatch", or per key: -c authwatch.<key>=<value>. See docs/deploy.md.\n`);
      process.exit(1);
    }
    throw e;
  }
  app.synth();
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();
