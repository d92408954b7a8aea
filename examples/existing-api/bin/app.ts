/**
 * The CDK app (cdk.json: `npx tsx bin/app.ts`): the reports service's stack, checked by cdk-nag's AwsSolutions rules
 * at synthesis (Gatehouse's constructs carry their own acknowledgements; the stack acknowledges the team's).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadAppGroups } from 'gatehouse/cdk';
import { APP_DIR, app } from '../gatehouse.app.js';
import { ReportsStack } from '../lib/stack.js';

const cdkApp = new App();
// Gatehouse's handler groups the declaration mounts (keys, whoami, …), loaded before the stack is built.
const groups = await loadAppGroups(app);
new ReportsStack(cdkApp, 'ReportsService', { app, groups, baseDir: APP_DIR });
Validations.of(cdkApp).addPlugins(new AwsSolutionsChecks(cdkApp));
cdkApp.synth();
