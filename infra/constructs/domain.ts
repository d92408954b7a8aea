/**
 * GatehouseDomain: a REST API on a domain of the team's own (config `customDomain`, infra/domain-config.ts) — the
 * regional custom domain with Gatehouse's TLS policy, its certificate (the given ARN, or one created and validated by
 * DNS in the given hosted zone), the base path mapping to the stage, an alias record when a zone is given, and
 * optionally mutual TLS with a truststore (an S3 object version, or a bundle this app uploads as an asset).
 *
 * GatehouseApi creates it for a REST API it created, and then turns the default `execute-api` endpoint off
 * (rest-api.ts): the domain, behind the stage's WAF, is the only way in. On a REST API of the team's, create it
 * yourself and disable that endpoint on your API (`disableExecuteApiEndpoint: true`).
 */
import { isAbsolute, resolve } from 'node:path';
import type { BasePathMapping} from 'aws-cdk-lib/aws-apigateway';
import { DomainName, EndpointType, type CfnDomainName, type EndpointAccessMode, type IRestApi, type MTLSConfig, type SecurityPolicy, type Stage } from 'aws-cdk-lib/aws-apigateway';
import { Certificate, CertificateValidation, type ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { domainUrlOf, isEnhancedPolicy, securityPolicyOf, type CustomDomainConfig, type DomainSecurityPolicy } from '../domain-config.js';
import { checkTruststore, type TruststoreSummary } from '../truststore.js';

export interface GatehouseDomainProps {
  /** The validated `customDomain` configuration (gatehouseConfig({ customDomain }).infra.customDomain). */
  readonly domain: CustomDomainConfig;
  readonly restApi: IRestApi;
  /** The stage the domain maps to. */
  readonly stage: Stage;
  /** The folder a relative `mtls.truststoreFile` is resolved from. @default process.cwd() */
  readonly baseDir?: string;
}

export class GatehouseDomain extends Construct {
  readonly domainName: DomainName;
  readonly certificate: ICertificate;
  /** The domain as configured (`api.example.com`). */
  readonly hostname: string;
  /** The API's base URL on the domain: `https://<domain>[/<basePath>]`. */
  readonly url: string;
  readonly securityPolicy: DomainSecurityPolicy;
  readonly basePathMapping: BasePathMapping;
  /** The alias record, when a hosted zone was given. */
  readonly aliasRecord?: ARecord;
  /** The uploaded truststore bundle (mtls.truststoreFile) and what its check found. */
  readonly truststoreAsset?: Asset;
  readonly truststore?: TruststoreSummary;

  constructor(scope: Construct, id: string, props: GatehouseDomainProps) {
    super(scope, id);
    const { domain } = props;
    this.hostname = domain.domainName;
    this.securityPolicy = securityPolicyOf(domain);
    this.url = domainUrlOf(domain);

    const zone = domain.hostedZone ? HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: domain.hostedZone.id, zoneName: domain.hostedZone.name }) : undefined;
    this.certificate = domain.certificateArn
      ? Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn)
      : new Certificate(this, 'Certificate', { domainName: domain.domainName, validation: CertificateValidation.fromDns(zone) });

    let mtls: MTLSConfig | undefined;
    if (domain.mtls && 'truststoreUri' in domain.mtls) {
      const [, bucketName = '', key = ''] = /^s3:\/\/([^/]+)\/(.+)$/.exec(domain.mtls.truststoreUri) ?? [];
      mtls = { bucket: Bucket.fromBucketName(this, 'TruststoreBucket', bucketName), key, version: domain.mtls.truststoreVersion };
    } else if (domain.mtls) {
      const file = isAbsolute(domain.mtls.truststoreFile) ? domain.mtls.truststoreFile : resolve(props.baseDir ?? process.cwd(), domain.mtls.truststoreFile);
      // Checked before upload: a private key in the bundle, an unsupported key or an expired CA fails synthesis.
      this.truststore = checkTruststore(file);
      // The object key is the content hash: a changed bundle is a new URI, so the domain is updated to it.
      this.truststoreAsset = new Asset(this, 'Truststore', { path: file });
      mtls = { bucket: this.truststoreAsset.bucket, key: this.truststoreAsset.s3ObjectKey };
    }

    this.domainName = new DomainName(this, 'Domain', {
      domainName: domain.domainName,
      certificate: this.certificate,
      endpointType: EndpointType.REGIONAL,
      securityPolicy: this.securityPolicy as SecurityPolicy,
      ...(isEnhancedPolicy(this.securityPolicy) ? { endpointAccessMode: domain.endpointAccessMode as EndpointAccessMode } : {}),
      ...(mtls ? { mtls } : {}),
    });
    const ownership = domain.mtls?.ownershipVerificationCertificateArn;
    if (ownership) (this.domainName.node.defaultChild as CfnDomainName).ownershipVerificationCertificateArn = ownership;

    this.basePathMapping = this.domainName.addBasePathMapping(props.restApi, { stage: props.stage, ...(domain.basePath ? { basePath: domain.basePath } : {}) });

    if (zone) {
      this.aliasRecord = new ARecord(this, 'Alias', { zone, recordName: `${domain.domainName}.`, target: RecordTarget.fromAlias(new ApiGatewayDomain(this.domainName)) });
    }
  }

  /** The regional domain name to point a CNAME at when the zone is not in Route 53 (no alias record then). */
  get regionalDomainName(): string {
    return this.domainName.domainNameAliasDomainName;
  }
}
