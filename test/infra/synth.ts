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

/** cdk.json's context, so tests synthesize with the same feature flags as the CLI. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
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

export interface SynthOptions {
  /** Replaces the cdk.json example configuration. */
  config?: Record<string, unknown>;
  /** Extra context, e.g. `{ 'authwatch.alertEmails': 'a@b.c' }` as the CLI's `-c` would pass it. */
  context?: Record<string, unknown>;
  /** Run esbuild for the Lambda asset (slower; one test does). Off: CDK's own "skip bundling" context. */
  bundle?: boolean;
}

export function synth(options: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'authwatch-cdk-'));
  outdirs.push(outdir);
  const context: Record<string, unknown> = { ...cdkJsonContext(), ...(options.config ? { [CONTEXT_KEY]: options.config } : {}), ...options.context };
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
      pluginReports: { violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    for (const p of report.pluginReports) {
      for (const v of p.violations) violations.push({ ruleName: v.ruleName, severity: v.severity, paths: v.violatingConstructs.map((c) => c.constructPath) });
    }
  }
  const template = Template.fromJSON(JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as Record<string, unknown>);
  return { app, stack, template, violations, outdir };
}
