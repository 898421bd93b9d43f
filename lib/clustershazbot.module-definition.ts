import { ConfigurableModuleBuilder } from '@nestjs/common';
import { createClusterController } from './cluster.controller.js';
import { CLUSTER_CONTROLLER, DEFAULT_ROUTE_PREFIX, ROUTE_PREFIX } from './clustershazbot.constants.js';
import type { ClustershazbotModuleExtras, ClustershazbotOptions } from './clustershazbot.options.js';

export const {
  ConfigurableModuleClass: ClustershazbotConfigurableModule,
  MODULE_OPTIONS_TOKEN: CLUSTERSHAZBOT_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ClustershazbotOptions>({ moduleName: 'Clustershazbot' })
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
