/**
 * Issue 17 in the synthesized app: the custom domain, its TLS policy, the disabled execute-api endpoint, the
 * truststore (an S3 object version, or a bundle uploaded as an asset), the ownership-verification certificate, the
 * alias record, and the URLs (stack outputs, the console's callback) on the domain.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.js';
import { CLIENT_CERTIFICATES_ENV } from '../../lambdas/core/client-certificate-config.js';
import { checkTruststore } from '../../infra/truststore.js';
import { createLocalCa, issueClientCertificate } from '../../local/tls/ca.js';
import { buildDefault, createApp, resourcesOf, synthGatehouse, type SynthResult } from './synth.js';
import { json, props } from './template.js';

process.env.CDK_VALIDATION = 'false';

const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const OWNERSHIP_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000';
const ZONE = { id: 'Z0123456789ABCDEFGHIJ', name: 'example.com' };
const MTLS_URI = { truststoreUri: 's3://example-truststores/gatehouse/truststore.pem', truststoreVersion: 'v3.2-abc' };
const PRINCIPALS = {
  principals: [{ name: 'billing', match: { subject: 'CN=billing,O=Example', issuer: 'CN=Example Services CA,O=Example' }, tenant: 'billing', scopes: ['items:read'], mode: 'certificate' }],
};

let dir: string;
let truststoreFile: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-truststore-'));
  const ca = await createLocalCa({ subject: 'CN=Example Services CA,O=Example' });
  truststoreFile = join(dir, 'truststore.pem');
  writeFileSync(truststoreFile, ca.certPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const one = (result: SynthResult, type: string) => {
  const found = Object.values(resourcesOf(result.templates.api, type));
  expect(found, type).toHaveLength(1);
  return props(found[0]!);
};

describe('issue 17: a custom domain without mutual TLS', () => {
  let result: SynthResult;
  beforeAll(() => {
    result = synthGatehouse({ customDomain: { domainName: 'api.example.com', hostedZone: ZONE, basePath: 'v1' } });
  });

  it('the newest TLS policy for a regional REST domain: SecurityPolicy_TLS13_1_3_2025_09, endpoint access mode STRICT', () => {
    expect(one(result, 'AWS::ApiGateway::DomainName')).toMatchObject({
      DomainName: 'api.example.com',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09',
      EndpointAccessMode: 'STRICT',
    });
    expect(one(result, 'AWS::ApiGateway::DomainName').MutualTlsAuthentication).toBeUndefined();
  });

  it('a certificate created and validated by DNS in the hosted zone, and an alias record there', () => {
    expect(one(result, 'AWS::CertificateManager::Certificate')).toMatchObject({
      DomainName: 'api.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'api.example.com', HostedZoneId: ZONE.id }],
    });
    const record = one(result, 'AWS::Route53::RecordSet');
    expect(record).toMatchObject({ Name: 'api.example.com.', Type: 'A', HostedZoneId: ZONE.id });
    expect(json(record.AliasTarget)).toContain('RegionalDomainName');
  });

  it('the base path maps to the stage; the default execute-api endpoint is disabled and redeployed', () => {
    const mapping = one(result, 'AWS::ApiGateway::BasePathMapping');
    expect(mapping.BasePath).toBe('v1');
    expect(json(mapping.Stage)).toContain('DeploymentStage');
    expect(one(result, 'AWS::ApiGateway::RestApi').DisableExecuteApiEndpoint).toBe(true);
    // The deployment's logical id changes with the setting: the stage is updated, which is when AWS applies it.
    const plain = synthGatehouse();
    const deploymentId = (r: SynthResult) => Object.keys(resourcesOf(r.templates.api, 'AWS::ApiGateway::Deployment'))[0];
    expect(deploymentId(result)).not.toBe(deploymentId(plain));
    expect(one(plain, 'AWS::ApiGateway::RestApi').DisableExecuteApiEndpoint).toBeUndefined();
  });

  it('the outputs and the console use the domain, never the execute-api URL', () => {
    const outputs = result.templates.api.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ApiUrl?.Value).toBe('https://api.example.com/v1/');
    for (const [name, output] of Object.entries(outputs)) expect(json(output.Value), name).not.toContain('execute-api');
    const client = one(result, 'AWS::Cognito::UserPoolClient');
    expect(client.CallbackURLs).toEqual(['https://api.example.com/v1/console']);
    expect(client.LogoutURLs).toEqual(['https://api.example.com/v1/console']);
  });
});

describe('issue 17: a custom domain with mutual TLS', () => {
  it('a truststore in S3 (URI and version), TLS_1_2, the ownership-verification certificate, the existing certificate', () => {
    const result = synthGatehouse({
      customDomain: { domainName: 'mtls.example.com', certificateArn: CERT_ARN, mtls: { ...MTLS_URI, ownershipVerificationCertificateArn: OWNERSHIP_ARN } },
      clientCertificates: PRINCIPALS,
    });
    const domain = one(result, 'AWS::ApiGateway::DomainName');
    expect(domain).toMatchObject({
      DomainName: 'mtls.example.com',
      RegionalCertificateArn: CERT_ARN,
      SecurityPolicy: 'TLS_1_2',
      MutualTlsAuthentication: { TruststoreUri: 's3://example-truststores/gatehouse/truststore.pem', TruststoreVersion: 'v3.2-abc' },
      OwnershipVerificationCertificateArn: OWNERSHIP_ARN,
    });
    expect(domain.EndpointAccessMode).toBeUndefined();
    result.templates.api.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    result.templates.api.resourceCountIs('AWS::Route53::RecordSet', 0);
    // Without a hosted zone: where to point a CNAME.
    const outputs = result.templates.api.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(json(outputs.DomainTarget?.Value)).toContain('RegionalDomainName');
    // The authorizer holds the certificate principals.
    const authorizer = Object.values(resourcesOf(result.templates.api, 'AWS::Lambda::Function')).find((f) => json(props(f).Description).includes('authorizer'));
    const env = (props(authorizer!).Environment as { Variables: Record<string, string> }).Variables;
    expect(JSON.parse(env[CLIENT_CERTIFICATES_ENV]!)).toEqual(PRINCIPALS);
  });

  it('a truststore bundle the app uploads as an asset (content-addressed: a new bundle is a new URI)', () => {
    const result = synthGatehouse({ customDomain: { domainName: 'mtls.example.com', certificateArn: CERT_ARN, mtls: { truststoreFile } } });
    const domain = one(result, 'AWS::ApiGateway::DomainName');
    expect(json(domain.MutualTlsAuthentication)).toMatch(/"TruststoreUri":.*s3:\/\/.*\.pem/);
    // The bundle is a file asset of the API stack, published to the bootstrap bucket by `cdk deploy`.
    const manifest = result.assembly.artifacts.find((a) => a instanceof AssetManifestArtifact && a.id.startsWith(result.stacks.api.artifactId)) as AssetManifestArtifact;
    const files = Object.values(manifest.contents.files ?? {}).map((f) => f.source.path ?? '');
    expect(files.filter((p) => p.endsWith('.pem'))).toHaveLength(1);
  });

  it('refuses what API Gateway would refuse or what would defeat the domain, naming the key', () => {
    const attempt = (context: Record<string, unknown>) => () => synthGatehouse(context);
    expect(attempt({ customDomain: { domainName: 'a.example.com', certificateArn: CERT_ARN, mtls: MTLS_URI, securityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09' } })).toThrow(
      /customDomain.*mutual TLS only with a legacy policy/,
    );
    expect(attempt({ customDomain: { domainName: 'a.example.com' } })).toThrow(/customDomain.*certificateArn, or a hostedZone/);
    expect(attempt({ customDomain: { domainName: 'a.example.org', hostedZone: ZONE } })).toThrow(/customDomain.*in the hosted zone/);
    expect(attempt({ customDomain: { domainName: 'a.example.com', certificateArn: CERT_ARN, mtls: { truststoreUri: 's3://bucket/key' } } })).toThrow(ConfigError);
    expect(attempt({ customDomain: { domainName: 'a.example.com', certificateArn: CERT_ARN, securityPolicy: 'TLS_1_0' } })).toThrow(ConfigError);
    // Certificate principals need a domain that asks for client certificates.
    expect(attempt({ clientCertificates: PRINCIPALS })).toThrow(/clientCertificates.*mtls/);
    expect(attempt({ customDomain: { domainName: 'a.example.com', certificateArn: CERT_ARN }, clientCertificates: PRINCIPALS })).toThrow(/clientCertificates.*mtls/);
  });
});

describe('issue 17: cdk-nag over the domain', () => {
  it('reports no finding with a created certificate, an alias record and mutual TLS', () => {
    const app = createApp({ customDomain: { domainName: 'api.example.com', hostedZone: ZONE, mtls: { truststoreFile } }, clientCertificates: PRINCIPALS });
    buildDefault(app);
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('issue 17: truststore bundles are checked before upload', () => {
  it('certificates only, supported keys, none expired', async () => {
    const ca = await createLocalCa();
    const client = await issueClientCertificate(ca, { subject: 'CN=x' });
    const expiredCa = await issueClientCertificate(ca, { subject: 'CN=old', notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    expect(checkTruststore(write('ok.pem', ca.certPem + client.certPem))).toMatchObject({ certificates: 2 });
    expect(() => checkTruststore(write('key.pem', ca.certPem + client.keyPem))).toThrow(/PRIVATE KEY block/);
    expect(() => checkTruststore(write('old.pem', expiredCa.certPem))).toThrow(/CN=old.*expired/);
    expect(() => checkTruststore(write('empty.pem', 'nothing here'))).toThrow(/no PEM certificate/);
    expect(() => checkTruststore(join(dir, 'missing.pem'))).toThrow(/cannot be read/);
  });
});
