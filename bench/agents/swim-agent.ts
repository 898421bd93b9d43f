/** happn-swim 1.0.3: SWIM over UDP; 1 s probe interval, 500 ms ping timeout (its suspicion timeout is not configurable). */
import { emit, onCommand, reportBytesEverySecond } from './agent-io.js';
import { createRequire } from 'node:module';

const Swim = createRequire(import.meta.url)('happn-swim');
const host = `127.0.0.1:${process.env.PORT}`;
const swim = new Swim({ local: { host }, interval: 1000, pingTimeout: 500, pingReqTimeout: 1000, pingReqGroupSize: 3, joinTimeout: 1000 });
const report = (update: { host: string; state: number }) => {
  if (update.host === host) return;
  if (update.state === 0) emit({ ev: 'alive', peer: update.host });
  if (update.state === 2) emit({ ev: 'failed', peer: update.host });
};
swim.on(Swim.EventType.Change, report);
swim.on(Swim.EventType.Update, report);
swim.on(Swim.EventType.Error, (error: Error) => emit({ ev: 'error', message: error.message }));
swim.bootstrap(process.env.SEEDS ? process.env.SEEDS.split(',') : [], () => emit({ ev: 'ready', self: host }));
onCommand(() => undefined); // no state beyond membership to change
reportBytesEverySecond();
