/**
 * cfn-lint (AWS CloudFormation Linter) over every template the default app synthesises — with the default (prod)
 * profile and with the dev profile, context keys that change the resources — failing on any error. cfn-lint is a
 * Python tool: where it is not on PATH (a new CI machine: PyPI is not reachable there and Debian bookworm does not
 * package it) the test says so and does not run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp, buildDefault } from './synth.js';

process.env.CDK_VALIDATION = 'false';

const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const CFN_LINT = probe.status === 0 ? probe.stdout.trim() : undefined;
const SKIP_REASON = 'cfn-lint is not installed (pip install cfn-lint; it is not packaged by Debian bookworm and CI cannot reach PyPI), so the templates were not linted';

interface Finding {
  readonly Level: string;
  readonly Rule: { readonly Id: string };
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path: readonly (string | number)[] };
}

function synthesised(context: Record<string, unknown>): string[] {
  const app = createApp(context);
  buildDefault(app);
  const dir = app.synth().directory;
  const templates = readdirSync(dir).filter((f) => f.endsWith('.template.json')).map((f) => join(dir, f));
  expect(templates.length).toBeGreaterThanOrEqual(5);
  return templates;
}

function lint(templates: readonly string[]): Finding[] {
  const run = spawnSync('cfn-lint', ['--format', 'json', '--', ...templates], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; anything else is cfn-lint failing to run.
  expect(run.status === null ? -1 : run.status & ~(2 | 4 | 8), run.stderr).toBe(0);
  return JSON.parse(run.stdout || '[]') as Finding[];
}

const describeFinding = (f: Finding) => `${f.Rule.Id} ${f.Filename.split('/').pop()} ${f.Location.Path.join('/')}: ${f.Message}`;

describe(`cfn-lint over every template (${CFN_LINT ?? 'not installed'})`, () => {
  if (!CFN_LINT) {
    it.skip(SKIP_REASON, () => undefined);
    return;
  }

  it.each<[string, Record<string, unknown>]>([
    ['prod (default)', {}],
    ['dev, alarm e-mail, detailed metrics, chosen AZs', { profile: 'dev', alarmEmail: 'ops@example.com', detailedMetrics: true, availabilityZones: ['use1-az2'] }],
    // Issue 17: the enhanced TLS policy with its endpoint access mode, a DNS-validated certificate and an alias record.
    ['custom domain (TLS 1.3 policy, created certificate, alias record)', { customDomain: { domainName: 'api.example.com', hostedZone: { id: 'Z0123456789ABCDEFGHIJ', name: 'example.com' }, basePath: 'v1' } }],
    [
      'custom domain with mutual TLS and certificate principals',
      {
        customDomain: {
          domainName: 'mtls.example.com',
          certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
          mtls: { truststoreUri: 's3://example-truststores/truststore.pem', truststoreVersion: 'v1', ownershipVerificationCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000' },
        },
        clientCertificates: { principals: [{ name: 'billing', match: { sha256: 'AB'.repeat(32) }, tenant: 'billing', scopes: ['items:read'], mode: 'certificate' }] },
      },
    ],
  ])('reports no error: %s', (_name, context) => {
    const errors = lint(synthesised(context)).filter((f) => f.Level === 'Error');
    expect(errors.map(describeFinding)).toEqual([]);
  }, 60_000);

  it('reports the error in a template that has one (the harness reads what cfn-lint finds)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cfn-lint-'));
    try {
      const file = join(dir, 'broken.template.json');
      writeFileSync(file, JSON.stringify({ Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 'soon', Colour: 'blue' } } } }));
      const errors = lint([file]).filter((f) => f.Level === 'Error');
      expect(errors.length).toBeGreaterThanOrEqual(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
