/**
 * CDK entry point (cdk.json: `npx tsx infra/app.ts`). Loads the handler groups the route table names, validates the
 * configuration, builds the stacks and runs the cdk-nag AwsSolutions checks as a validation plugin: synthesis fails
 * on any unacknowledged finding.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../lambdas/core/errors.js';
import { assertLocalEsbuild } from './function.js';
import { buildGatehouse } from './gatehouse.js';
import { loadAppGroups } from './groups.js';

const app = new App();
assertLocalEsbuild();
const groups = await loadAppGroups();
try {
  buildGatehouse(app, { groups });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration mistake is the user's to fix: say which key and what it expects, without a stack trace.
  process.stderr.write(`\n${error.message}\n(set it in cdk.json "context" or with -c ${error.setting}=…)\n\n`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
