/**
 * CloudFormation custom resource (CDK Provider framework, onEvent) that creates the bootstrap admin key at deploy
 * time and puts its plaintext into a Secrets Manager secret — the only place it is ever written. The key is
 * never returned in the resource's data (CloudFormation would show it). Idempotent across updates; on delete the
 * key and secret are left in place (the data stack retains them).
 */
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createDocumentClient, pepperSourceFor } from '../authorizer/wiring.js';
import { activeAdminSuccessor, ensureAdminKey } from '../core/bootstrap.js';
import { ConfigError } from '../core/errors.js';
import { DynamoKeyStore } from '../core/key-store.js';
import { createLogger } from '../core/logger.js';
import { PepperProvider } from '../core/pepper.js';
import { readSettings } from '../core/settings.js';
import { deploymentApi } from '../deployment.js';

const logger = createLogger('gatehouse-bootstrap');
export const PHYSICAL_ID = 'gatehouse-bootstrap-admin-key';

export interface BootstrapClients {
  readonly secrets?: SecretsManagerClient;
  readonly store?: DynamoKeyStore;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

async function readExisting(secrets: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    const text = out.SecretString?.trim();
    return text && text.startsWith('gth_') ? text : undefined;
  } catch (error) {
    // A secret created without a value has no current version yet: that simply means "no key so far".
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

export function createBootstrapHandler(clients: BootstrapClients = {}) {
  return async (event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string; Data: Record<string, string> }> => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: PHYSICAL_ID, Data: {} };
    const env = clients.env ?? process.env;
    const settings = readSettings(['tableName', 'keyEnvironment', 'pepperSecretId', 'localPepper', 'pepperRefreshSeconds'], env);
    const secretId = env.GATEHOUSE_ADMIN_KEY_SECRET_ID;
    if (!secretId) throw new ConfigError('GATEHOUSE_ADMIN_KEY_SECRET_ID', 'the secret that receives the admin key');
    if (!settings.tableName) throw new ConfigError('GATEHOUSE_TABLE_NAME', 'a DynamoDB table name');
    const secrets = clients.secrets ?? new SecretsManagerClient({});
    const store = clients.store ?? new DynamoKeyStore(createDocumentClient(), settings.tableName);
    const peppers = new PepperProvider(pepperSourceFor(settings, secrets), { refreshSeconds: 60, maxStaleSeconds: 60 });

    const existing = await readExisting(secrets, secretId);
    const successor = existing ? await activeAdminSuccessor(store, existing) : undefined;
    if (successor) {
      logger.warn('the admin key in the secret was rotated through the API; its successor is the admin key now: store that key in the secret', {
        keyId: successor.id,
      });
      return { PhysicalResourceId: PHYSICAL_ID, Data: { AdminKeyId: successor.id } };
    }
    const { key, record, created } = await ensureAdminKey({ store, peppers, environment: settings.keyEnvironment, scopes: deploymentApi().scopes }, existing);
    if (created) await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: key }));
    logger.info(created ? 'bootstrap admin key created' : 'bootstrap admin key kept', { keyId: record.id });
    return { PhysicalResourceId: PHYSICAL_ID, Data: { AdminKeyId: record.id } };
  };
}

export const handler = createBootstrapHandler();
