/**
 * Synthesize the authwatch app the way `cdk synth` does (cdk.json's feature flags, the cdk-nag plugin), with a
 * test configuration, into a temporary directory; return the template and the policy-validation report.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { CONTEXT_KEY } from '../../infra/config';
import type { AuthwatchStack } from '../../infra/stack';
import { PROJECT_ROOT } from '../../lambdas/bundle';

const outdirs: string[] = [];
// Registered in the importing test file's root suite: its cloud assemblies go when the file is done.
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export interface Violation {
  ruleName: string;
  severity: string;
  paths: string[];
}

export interface Synthesized {
  app: App;
  stack: AuthwatchStack;
  template: Template;
  violations: Violation[];
  outdir: string;
}

/**
 * cdk.json's context: the CDK feature flags, so tests synthesize with the same flags as the CLI. It holds no
 * `authwatch` configuration (config.test.ts checks that), so each test gives its configuration explicitly.
 */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
    .context;
}

/**
 * The `-c key=value` pairs of the first `npx cdk deploy` command under a README heading, as the CDK CLI passes
 * them (strings), so tests synthesize exactly what the README tells a new user to type.
 */
export function readmeDeployContext(heading: string): Record<string, string> {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at === -1) throw new Error(`README.md has no heading "${heading}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? '';
  const command = block.slice(block.indexOf('npx cdk deploy')).split(/(?<!\\)\n/)[0]!;
  const context: Record<string, string> = {};
  for (const m of command.matchAll(/-c\s+(?:'([^']*)'|"([^"]*)"|(\S+))/g)) {
    const arg = m[1] ?? m[2] ?? m[3]!;
    const eq = arg.indexOf('=');
    context[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  if (Object.keys(context).length === 0)
    throw new Error(`README.md: no "npx cdk deploy -c ..." command under "${heading}"`);
  return context;
}

export const TEST_CONFIG = {
  logSources: [
    { profile: 'sshd', logGroups: ['/ec2/secure', '/ec2/bastion/secure'] },
    { profile: 'cloudtrail', logGroups: ['aws-cloudtrail-logs-123456789012'] },
  ],
  alertEmails: ['secops@example.com', 'oncall@example.com'],
  opsEmails: ['platform@example.com'],
  slack: { workspaceId: 'T07ABCDEF', channelId: 'C07ABCDEF' },
  learningDays: 7,
  thresholds: { 'Auth.RareUser': 80 },
  allowUsers: ['svc-*'],
  allowCidrs: ['10.0.0.0/8'],
  serviceName: 'authwatch-test',
};

/** What to synthesize with: the `authwatch` object, `-c` context, or both; cdk.json supplies only feature flags. */
export interface SynthOptions {
  /** The `authwatch` context object (as in a cdk.json or `-c authwatch='{...}'`). */
  config?: Record<string, unknown>;
  /** Extra context, e.g. `{ 'authwatch.alertEmails': 'a@b.c' }` as the CLI's `-c` would pass it. */
  context?: Record<string, unknown>;
  /** Run esbuild for the Lambda asset (slower; one test does). Off: CDK's own "skip bundling" context. */
  bundle?: boolean;
}

export function synth(options: SynthOptions): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'authwatch-cdk-'));
  outdirs.push(outdir);
  const context: Record<string, unknown> = {
    ...cdkJsonContext(),
    ...(options.config ? { [CONTEXT_KEY]: options.config } : {}),
    ...options.context,
  };
  // The CLI sets this for `cdk ls` and `--exclusively` of other stacks; an empty list means "bundle nothing".
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, outdir });
  const stack = buildApp(app);
  try {
    app.synth();
  } catch (e) {
    // cdk-nag findings make synth throw after writing the report; the report is what the tests assert on.
    if (!existsSync(join(outdir, 'validation-report.json'))) throw e;
  }
  const reportPath = join(outdir, 'validation-report.json');
  const violations: Violation[] = [];
  if (existsSync(reportPath)) {
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
      pluginReports: {
        violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    for (const p of report.pluginReports) {
      for (const v of p.violations)
        violations.push({
          ruleName: v.ruleName,
          severity: v.severity,
          paths: v.violatingConstructs.map((c) => c.constructPath),
        });
    }
  }
  const template = Template.fromJSON(
    JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as Record<string, unknown>,
  );
  return { app, stack, template, violations, outdir };
}

/** A CloudFormation value as text, references kept as `${...}` (a state machine's definition string, an ARN). */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref) return `\${${String(v.Ref)}}`;
  if (v['Fn::GetAtt']) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(sep);
  }
  return JSON.stringify(value);
}

/** The Amazon States Language definition of the one state machine whose logical id starts with `prefix`. */
export function stateMachineDefinition(s: Synthesized, prefix: string): Record<string, unknown> {
  const resources = s.template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const found = Object.entries(resources).filter(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(prefix),
  );
  if (found.length !== 1) throw new Error(`${found.length} state machines named ${prefix}*`);
  return JSON.parse(render(found[0]![1].Properties.DefinitionString)) as Record<string, unknown>;
}
