import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../cli-errors.js';
import { baseUrlArgument, CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, ENVIRONMENT_HELP, MEMBER_HELP, MEMBER_OPTION, memberOption, noExtraArguments, secondsOption } from '../cli-options.js';
import { ClusterMonitor } from '../dashboard/cluster-monitor.js';
import { DashboardServer } from '../dashboard/dashboard.server.js';

const DEFAULT_PORT = 9494;

/** A host route option: a path relative to each base URL, or `none`. */
function routeOption(raw: unknown, name: string): string | undefined {
  const value = String(raw).trim();
  if (value === 'none' || value === '') return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) || value.includes('..') || /[?#\s]/.test(value)) throw new UsageError(`--${name} takes a path relative to each server's base URL (or none), not "${value}"`);
  return value.replace(/^\/+/, '');
}

export const dashboardCommand: CliCommand = {
  name: 'dashboard',
  summary: 'serve a live dashboard of the cluster on this machine (127.0.0.1)',
  help: `usage: clustershazbot dashboard <baseUrl> [--port ${DEFAULT_PORT}] [--interval 1] [--member URL]

Serves a page on http://127.0.0.1:<port>/ that shows, refreshed live: the members table as
the server at <baseUrl> sees it (another member's view while it does not answer), whether
the servers agree (each member's own view, by fingerprint), each host's health where it has
a health route, and recent membership changes. The CLI reads the cluster with signed
requests (GET <prefix>/list and <prefix>/state, SHAZBOT_SECRET); the page talks only to the
CLI, so no secret reaches the browser and the cluster needs no new endpoint. Members are
asked at their base URLs, so they must be reachable from this machine; with --member, the
server <baseUrl> leads to is asked at <baseUrl> (its health and metrics routes too), and
a member this machine cannot reach shows why. Ctrl-C stops it.

options:
  --port P              local port (default ${DEFAULT_PORT}; 0 picks a free one); only 127.0.0.1 listens
  --interval S          seconds between refreshes (default 1)
  --health-path P       each host's Terminus route, relative to its base URL (default health; none: skip)
  --metrics-path P      each host's Prometheus route, for clustershazbot_health_score (default metrics; none: skip)
${MEMBER_HELP}
${CONNECTION_HELP}
  -h, --help            this help

${ENVIRONMENT_HELP}

example:
  SHAZBOT_SECRET=… npx clustershazbot dashboard http://10.0.0.5:3000/
  dashboard for cluster "default" at http://127.0.0.1:${DEFAULT_PORT}/ (reading http://10.0.0.5:3000/ every 1 s; Ctrl-C to stop)`,
  options: {
    ...CONNECTION_OPTIONS,
    ...MEMBER_OPTION,
    port: { type: 'string', default: String(DEFAULT_PORT) },
    interval: { type: 'string', default: '1' },
    'health-path': { type: 'string', default: 'health' },
    'metrics-path': { type: 'string', default: 'metrics' },
  },
  async run(positionals, values) {
    noExtraArguments(positionals, 1, 'dashboard');
    const entry = baseUrlArgument(positionals[0], 'dashboard');
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a port number (0 to 65535), not "${String(values.port)}"`);
    const intervalMs = secondsOption(values, 'interval') * 1000;
    const connection = connectionFrom(values);
    const member = values.member === undefined ? undefined : memberOption(values, entry, 'dashboard');
    const monitor = new ClusterMonitor({
      entry,
      ...(member === undefined || member === entry ? {} : { member }),
      connection,
      intervalMs,
      healthPath: routeOption(values['health-path'], 'health-path'),
      metricsPath: routeOption(values['metrics-path'], 'metrics-path'),
    });
    const server = new DashboardServer(monitor, port);
    await monitor.start(); // reads the entry's view once: a wrong URL, secret or cluster fails here
    let url: string;
    try {
      url = await server.listen();
    } catch (error) {
      await monitor.stop();
      throw error;
    }
    process.stdout.write(`dashboard for cluster "${connection.cluster}" at ${url} (reading ${entry}${member === undefined || member === entry ? '' : `, signed for ${member}`} every ${intervalMs / 1000} s; Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.all([server.close(), monitor.stop()]);
    return 0;
  },
};
