/**
 * CORS settings shared by the handlers, CDK's preflight configuration and the local gateway. Origins come from
 * configuration (none by default); credentials are allowed only because origins are an explicit list, never `*`.
 */
export const CORS_ALLOW_HEADERS = ['Authorization', 'X-API-Key', 'Content-Type', 'If-Match', 'X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256'];
export const CORS_EXPOSE_HEADERS = ['ETag', 'Retry-After', 'WWW-Authenticate', 'Location'];
export const CORS_MAX_AGE_SECONDS = 600;
