import { ConfigurableModuleBuilder } from '@nestjs/common';
import { createClusterController } from './cluster.controller.js';
import { CLUSTER_CONTROLLER, DEFAULT_ROUTE_PREFIX, ROUTE_PREFIX } from './clustershazbot.constants.js';
import type { ClustershazbotModuleExtras, ClustershazbotOptions } from './clustershazbot.options.js';

const definition = new ConfigurableModuleBuilder<ClustershazbotOptions>({ moduleName: 'Clustershazbot' })
  .setClassMethodName('forRoot')
  .setExtras<ClustershazbotModuleExtras>({ routePrefix: DEFAULT_ROUTE_PREFIX, isGlobal: false }, (definition, extras) => {
    const routePrefix = (extras.routePrefix ?? DEFAULT_ROUTE_PREFIX).replace(/^\/+|\/+$/g, '');
    const controller = createClusterController(routePrefix);
    return {
      ...definition,
      global: extras.isGlobal,
      controllers: [controller],
      providers: [...(definition.providers ?? []), { provide: ROUTE_PREFIX, useValue: routePrefix }, { provide: CLUSTER_CONTROLLER, useValue: controller }],
    };
  })
  .build();

/** The class ClustershazbotModule extends: `forRoot` and `forRootAsync` (Nest's ConfigurableModuleBuilder). */
export const ClustershazbotConfigurableModule = definition.ConfigurableModuleClass;
/**
 * The injection token of the options given to `forRoot` / `forRootAsync` as they were given
 * (before variables and defaults apply): `@Inject(CLUSTERSHAZBOT_MODULE_OPTIONS)`.
 */
export const CLUSTERSHAZBOT_MODULE_OPTIONS = definition.MODULE_OPTIONS_TOKEN;
export const OPTIONS_TYPE = definition.OPTIONS_TYPE;
export const ASYNC_OPTIONS_TYPE = definition.ASYNC_OPTIONS_TYPE;
