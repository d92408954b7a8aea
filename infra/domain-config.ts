/**
 * The `customDomain` key of the CDK configuration (cdk.json context, or gatehouseConfig({ customDomain })): the API on
 * a domain of the team's own, with a TLS policy Gatehouse chooses, and optionally mutual TLS. docs/custom-domain.md
 * walks through it; constructs/domain.ts builds it.
 *
 * ```json
 * "customDomain": {
 *   "domainName": "api.example.com",
 *   "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/…",   // or only hostedZone: created and DNS-validated there
 *   "hostedZone": { "id": "Z0123456789ABCDEFGHIJ", "name": "example.com" }, // also: an alias record for the domain
 *   "basePath": "v2",                                                       // optional: https://api.example.com/v2/…
 *   "mtls": { "truststoreUri": "s3://bucket/truststore.pem", "truststoreVersion": "…" } // or { "truststoreFile": "certs/truststore.pem" }
 * }
 * ```
 *
 * The TLS policy — the decision (README "TLS policy"): without mutual TLS, `SecurityPolicy_TLS13_1_3_2025_09`, the
 * newest policy API Gateway offers REST APIs on a regional domain in aws-cdk-lib's `SecurityPolicy` (TLS 1.3 only,
 * AEAD ciphers only), with endpoint access mode STRICT. With mutual TLS, `TLS_1_2`: API Gateway refuses mutual TLS on
 * a domain with any enhanced (`SecurityPolicy_…`) policy, and TLS_1_2 is the newest legacy one. Another enhanced
 * regional policy may be chosen (`securityPolicy`), e.g. `SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09` for clients
 * without TLS 1.3; TLS_1_0 is never offered.
 */
import { z } from 'zod';

/** The enhanced policies aws-cdk-lib 2.276 offers for regional endpoints (edge-only ones are not: the API is regional). */
export const ENHANCED_REGIONAL_POLICIES = [
  'SecurityPolicy_TLS13_1_3_2025_09',
  'SecurityPolicy_TLS13_1_3_FIPS_2025_09',
  'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
  'SecurityPolicy_TLS13_1_2_PQ_2025_09',
] as const;
export const LEGACY_TLS_1_2 = 'TLS_1_2';
export const SECURITY_POLICIES = [...ENHANCED_REGIONAL_POLICIES, LEGACY_TLS_1_2] as const;
export type DomainSecurityPolicy = (typeof SECURITY_POLICIES)[number];

/** Without mutual TLS: TLS 1.3 only. */
export const DEFAULT_SECURITY_POLICY: DomainSecurityPolicy = 'SecurityPolicy_TLS13_1_3_2025_09';
/** With mutual TLS: the newest policy API Gateway allows beside it. */
export const MTLS_SECURITY_POLICY: DomainSecurityPolicy = LEGACY_TLS_1_2;

export const isEnhancedPolicy = (policy: string): boolean => policy.startsWith('SecurityPolicy_');

/** A DNS name as API Gateway takes it: lower case, labels of letters, digits and hyphens, at most 253 characters. */
const HOSTNAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const hostname = z.string().regex(HOSTNAME, 'a lower-case DNS name such as api.example.com');
const arn = (service: string, resource: string) =>
  z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${resource}/[A-Za-z0-9-]+$`), `an ${service} ${resource} ARN`);
const certificateArn = arn('acm', 'certificate');

/** `s3://bucket/key`: a bucket name as S3 allows it and a key without white space. */
const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S{1,1024}$/;

const ownership = {
  // API Gateway needs it when the domain's certificate is imported into ACM or issued by AWS Private CA: a public ACM
  // certificate for the same domain, proving ownership. Not with a public certificate ACM issued (as Gatehouse creates).
  ownershipVerificationCertificateArn: certificateArn.optional(),
};

const mtls = z.union([
  z.strictObject({ truststoreUri: z.string().regex(S3_URI, 's3://bucket/key'), truststoreVersion: z.string().min(1).max(1024), ...ownership }),
  z.strictObject({ truststoreFile: z.string().min(1), ...ownership }),
]);

export const customDomainSchema = z
  .strictObject({
    domainName: hostname,
    certificateArn: certificateArn.optional(),
    hostedZone: z.strictObject({ id: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ'), name: hostname }).optional(),
    // One path segment (API Gateway's BasePathMapping); absent: the API at the domain's root.
    basePath: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'one path segment such as v2 (letters, digits and . _ ~ -)').optional(),
    securityPolicy: z.enum(SECURITY_POLICIES).optional(),
    // Only for enhanced policies: STRICT (SNI must name this domain, and the endpoint type must match) unless a
    // migration needs BASIC.
    endpointAccessMode: z.enum(['STRICT', 'BASIC']).default('STRICT'),
    mtls: mtls.optional(),
  })
  .refine((d) => d.certificateArn !== undefined || d.hostedZone !== undefined, {
    message: 'a certificateArn, or a hostedZone to create a DNS-validated certificate in',
  })
  .refine((d) => d.hostedZone === undefined || d.domainName === d.hostedZone.name || d.domainName.endsWith(`.${d.hostedZone.name}`), {
    message: 'the domain must be in the hosted zone (domainName equal to or under hostedZone.name)',
    path: ['hostedZone', 'name'],
  })
  .refine((d) => !(d.mtls && d.securityPolicy && isEnhancedPolicy(d.securityPolicy)), {
    message: `API Gateway allows mutual TLS only with a legacy policy: use ${LEGACY_TLS_1_2} (the default with mtls)`,
    path: ['securityPolicy'],
  });

export type CustomDomainConfig = z.output<typeof customDomainSchema>;

export const CUSTOM_DOMAIN_EXPECTED =
  '{domainName, certificateArn? | hostedZone?: {id, name}, basePath?, securityPolicy?, endpointAccessMode?, mtls?: {truststoreUri, truststoreVersion} | {truststoreFile}, with ownershipVerificationCertificateArn? for an imported or private certificate} (docs/custom-domain.md)';

/** The policy a domain gets: the configured one, else the newest its mutual TLS setting allows. */
export function securityPolicyOf(domain: Pick<CustomDomainConfig, 'securityPolicy' | 'mtls'>): DomainSecurityPolicy {
  return domain.securityPolicy ?? (domain.mtls ? MTLS_SECURITY_POLICY : DEFAULT_SECURITY_POLICY);
}

/** The API's base URL on the domain (no trailing slash). */
export function domainUrlOf(domain: Pick<CustomDomainConfig, 'domainName' | 'basePath'>): string {
  return `https://${domain.domainName}${domain.basePath ? `/${domain.basePath}` : ''}`;
}
