/**
 * Gatehouse: the whole front door in one construct, for a team's stack — network, data, identity, WAF, the API
 * (on the team's REST API or a new one) and its dashboard and alarms. Each part is also a construct of its own (GatehouseNetwork, GatehouseData,
 * GatehouseIdentity, GatehouseWaf, GatehouseApi) for a team that wants them in different stacks, as Gatehouse's own
 * app does (infra/gatehouse.ts).
 *
 * @example
 *   const app = defineApp({ scopes, routes, targets, gatehouse: { basePath: '/gatehouse' } });
 *   const groups = await loadAppGroups(app);
 *   new Gatehouse(stack, 'Gatehouse', { app, groups, existingRestApi: restApi, baseDir: import.meta.dirname });
 */
import type { Integration, IRestApi, RestApiProps } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import type { HandlerGroup } from '../../lambdas/api/group.js';
import { GATEHOUSE_APP, type GatehouseApp } from '../../lambdas/app.js';
import { GSI1 } from '../../lambdas/core/table.js';
import type { GatehouseConfig } from '../config.js';
import { requiredEndpoints } from '../endpoints.js';
import type { GatehouseBundling } from '../function.js';
import { GatehouseApi } from './api.js';
import { GatehouseData, type GatehouseDataProps } from './data.js';
import { defaultConfig } from './defaults.js';
import { GatehouseIdentity, type GatehouseIdentityProps } from './identity.js';
import { GatehouseMonitoring, type GatehouseMonitoringProps } from './monitoring.js';
import { GatehouseNetwork, type GatehouseNetworkProps } from './network.js';
import { freeFormBodyPaths, GatehouseWaf, type GatehouseWafProps } from './waf.js';

export interface GatehouseProps {
  /** One configuration for every part (gatehouseConfig({...})). @default gatehouseConfig() (every default) */
  readonly config?: GatehouseConfig;
  /** @default GATEHOUSE_APP (Gatehouse's own routes at the root) */
  readonly app?: GatehouseApp;
  /** loadAppGroups(app). */
  readonly groups: ReadonlyMap<string, HandlerGroup>;
  /** See GatehouseApiProps. @default a new REST API */
  readonly existingRestApi?: IRestApi;
  readonly restApiProps?: Partial<RestApiProps>;
  /** The folder Lambda targets' entries are relative to (the app declaration's). @default process.cwd() */
  readonly baseDir?: string;
  readonly integrations?: Readonly<Record<string, Integration>>;
  readonly handlerEntries?: Readonly<Record<string, string>>;
  /** @default true */
  readonly gatewayResponses?: boolean;
  /** The network; its `endpoints` are added to those the groups and targets declare. @default a new isolated VPC */
  readonly networkProps?: Omit<GatehouseNetworkProps, 'config'>;
  readonly dataProps?: Pick<GatehouseDataProps, 'tableProps'>;
  readonly identityProps?: Omit<GatehouseIdentityProps, 'config' | 'table' | 'api' | 'bundling'>;
  /**
   * The web ACL, associated with the REST API's deployment stage; false for none (a REST API without a deployment
   * stage of its own: associate GatehouseWaf with your stage yourself). @default true
   */
  readonly waf?: boolean | Omit<GatehouseWafProps, 'config'>;
  /**
   * The targets whose request bodies are free-form data: the Common rule set's body rules only count on their
   * routes (freeFormBodyPaths). Gatehouse's own item and key writes always are. @default none of the team's
   */
  readonly freeFormBodyTargets?: readonly string[];
  /** GatehouseApiProps.bookkeeperEntry. @default lambdas/bookkeeper/handler when it exists */
  readonly bookkeeperEntry?: string | false;
  /** The dashboard and alarms (GatehouseMonitoring); false for none. @default true */
  readonly monitoring?: boolean | Pick<GatehouseMonitoringProps, 'alarmEmail' | 'dashboardName'>;
  readonly bundling?: GatehouseBundling;
}

export class Gatehouse extends Construct {
  readonly network: GatehouseNetwork;
  readonly data: GatehouseData;
  readonly identity: GatehouseIdentity;
  readonly waf?: GatehouseWaf;
  readonly api: GatehouseApi;
  readonly monitoring?: GatehouseMonitoring;

  constructor(scope: Construct, id: string, props: GatehouseProps) {
    super(scope, id);
    const config = props.config ?? defaultConfig();
    const app = props.app ?? GATEHOUSE_APP;
    const overridden = new Set(Object.keys(props.integrations ?? {}));
    const targets = Object.fromEntries(Object.entries(app.targets).filter(([name]) => !overridden.has(name)));
    const endpoints = [...requiredEndpoints(props.groups.values(), targets), ...(props.networkProps?.endpoints ?? [])];

    this.network = new GatehouseNetwork(this, 'Network', { ...props.networkProps, config, endpoints });
    this.data = new GatehouseData(this, 'Data', { ...props.dataProps, config, network: this.network.functionNetwork, api: app.api, bundling: props.bundling });
    this.identity = new GatehouseIdentity(this, 'Identity', { ...props.identityProps, config, table: this.data.table, api: app.api, bundling: props.bundling });
    if (props.waf !== false) {
      this.waf = new GatehouseWaf(this, 'Waf', { freeFormBodyPaths: freeFormBodyPaths(app, props.freeFormBodyTargets), ...(typeof props.waf === 'object' ? props.waf : {}), config });
    }
    this.api = new GatehouseApi(this, 'Api', {
      config,
      app,
      groups: props.groups,
      network: this.network.functionNetwork,
      data: this.data,
      identity: this.identity,
      existingRestApi: props.existingRestApi,
      restApiProps: props.restApiProps,
      webAclArn: this.waf?.webAclArn,
      baseDir: props.baseDir,
      integrations: props.integrations,
      handlerEntries: props.handlerEntries,
      gatewayResponses: props.gatewayResponses,
      bookkeeperEntry: props.bookkeeperEntry,
      bundling: props.bundling,
    });
    if (props.monitoring !== false) {
      this.monitoring = new GatehouseMonitoring(this, 'Monitoring', {
        ...(typeof props.monitoring === 'object' ? props.monitoring : {}),
        config,
        functions: [...this.api.functions.map((f) => f.fn), this.identity.jwksMirror.fn],
        table: this.data.table,
        tableIndexName: GSI1.name,
        stage: this.api.stage,
        ...(this.waf ? { waf: { webAclName: this.waf.webAclName, ruleMetricNames: this.waf.ruleMetricNames } } : {}),
        jwksMirror: { fn: this.identity.jwksMirror.fn, deadLetters: this.identity.jwksMirrorDeadLetters },
        ...(this.api.bookkeeper && this.api.bookkeeperDeadLetters ? { bookkeeper: { fn: this.api.bookkeeper.fn, deadLetters: this.api.bookkeeperDeadLetters } } : {}),
      });
    }
  }
}
