/**
 * The AWS SDK warns on every client it builds under Node < 22 that its releases after early 2027 need
 * Node 22 (`emitWarningIfUnsupportedVersion` in @aws-sdk/core, skipped when
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is "true"). The command line supports Node 20.19+ (the
 * README says so once, and pins the SDK through the lock file), so an operator need not read it on every
 * command; someone who sets the variable themselves keeps their choice. The Lambda runs Node 22+.
 */
export function quietSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
