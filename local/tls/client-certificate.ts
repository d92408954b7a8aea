/**
 * The client certificate of a TLS connection in the shape API Gateway hands the authorizer and integrations
 * (`requestContext.identity.clientCert`): the PEM, subject and issuer (RFC 4514, most specific first), the serial
 * number (lower-case hex pairs joined by colons, as AWS's examples show it) and the validity in OpenSSL's
 * `Mon DD HH:MM:SS YYYY GMT` form. Gatehouse's authorizer reads the PEM itself; the strings are for integrations.
 */
import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { APIGatewayEventClientCertificate } from 'aws-lambda';
import { formatName, nameFromNode } from '../../lambdas/core/distinguished-name.js';

const printed = (name: string): string => {
  const parsed = nameFromNode(name);
  return parsed ? formatName(parsed) : name.replaceAll('\n', ',');
};

export function clientCertificateShape(cert: X509Certificate): APIGatewayEventClientCertificate {
  return {
    clientCertPem: cert.toString(),
    subjectDN: printed(cert.subject),
    issuerDN: printed(cert.issuer),
    serialNumber: (cert.serialNumber.toLowerCase().match(/../g) ?? []).join(':'),
    validity: { notBefore: cert.validFrom, notAfter: cert.validTo },
  };
}

const cache = new WeakMap<Socket, APIGatewayEventClientCertificate | null>();

/**
 * The certificate the client presented on this connection, once per connection (keep-alive requests share it);
 * null on plain HTTP or when it presented none. Only a certificate the TLS layer authorized counts: the server asks
 * with `rejectUnauthorized`, so an unauthorized one never gets this far.
 */
export function clientCertificateOf(socket: Socket): APIGatewayEventClientCertificate | null {
  const known = cache.get(socket);
  if (known !== undefined) return known;
  const tls = socket as Partial<TLSSocket>;
  let shape: APIGatewayEventClientCertificate | null = null;
  if (tls.encrypted === true && tls.authorized === true && typeof tls.getPeerX509Certificate === 'function') {
    const peer = tls.getPeerX509Certificate();
    shape = peer ? clientCertificateShape(peer) : null;
  }
  cache.set(socket, shape);
  return shape;
}
