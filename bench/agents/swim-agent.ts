/** happn-swim 1.0.3: SWIM over UDP; 1 s probe interval, 500 ms ping timeout (its suspicion timeout is not configurable). */
import { emit, onCommand, reportBytesEverySecond } from './agent-io.js';
import { createRequire } from 'node:module';

const Swim = createRequire(import.meta.url)('happn-swim');
const host = `127.0.0.1:${process.env.PORT}`;
const seeds = process.env.SEEDS ? process.env.SEEDS.split(',') : [];
const swim = new Swim({ local: { host }, interval: 1000, pingTimeout: 500, pingReqTimeout: 1000, pingReqGroupSize: 3, joinTimeout: 1000 });
const report = (update: { host: string; state: number }) => {
  if (update.host !== host && update.state === 2) emit({ ev: 'failed', peer: update.host });
};
swim.on(Swim.EventType.Change, report);
swim.on(Swim.EventType.Update, report);
swim.on(Swim.EventType.Error, () => undefined); // a failed join is retried below
// agents start together: a join sent before the seed listens fails, so retry as a user would
const join = () => swim.join(seeds, (error: Error | null) => error && setTimeout(join, 500));
swim.bootstrap(seeds, (error: Error | null) => {
  emit({ ev: 'ready', self: host });
  if (error && seeds.length) setTimeout(join, 500);
});
// its own view of who is alive, as the controller counts membership
setInterval(() => {
  const members = (swim.members() as { host: string; state: number }[]).filter((m) => m.state === 0).map((m) => m.host);
  emit({ ev: 'members', peers: members });
}, 500).unref();
onCommand(() => undefined); // no state beyond membership to change
reportBytesEverySecond();
