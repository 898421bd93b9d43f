/**
 * `npm run bench:nonces`: RequestVerifier.verify() with an empty nonce cache against one holding
 * about 1,000,000 nonces (the default bound), in the same run, on a simulated clock at 10,000
 * signed requests a second (issue 18, item 5). Prints requests per second of verify() for each,
 * their ratio, the heap the held nonces take, and what happens at the bound.
 *
 * Each phase verifies freshly signed requests (signing is done before the clock starts), so the
 * figures are the verifier's own: header parsing, the body hash, one HMAC, the nonce cache.
 */
import { RequestVerifier, signRequest, type VerifyResult } from 'clustershazbot';

const WINDOW_MS = 300_000;
const BOUND = 1_000_000;
/** Requests per measured round (BENCH_NONCES_MEASURED: fewer for a slow verifier). */
const MEASURED = Number(process.env.BENCH_NONCES_MEASURED) || 20_000;
const SELF = 'http://10.0.0.6:3000/';
const SECRET = 'bench-secret';
const body = { message: 'probe', online: [] };
const input = { method: 'POST', path: '/clustershazbot/probe', body };

/** A simulated clock: one request every 0.1 ms (10,000 a second), from a fixed start. */
let clock = 1_800_000_000_000;
const tick = () => (clock += 0.1);

function signedBatch(count: number): { header: string; ts: number }[] {
  const out: { header: string; ts: number }[] = [];
  for (let i = 0; i < count; i++) {
    const ts = Math.floor(tick());
    out.push({ header: signRequest(SECRET, { ...input, target: SELF, cluster: 'default' }, ts), ts });
  }
  return out;
}

/** Verifies every request at its own time; returns requests per second (wall clock) and the verdicts. */
function measure(verifier: RequestVerifier, batch: { header: string; ts: number }[]): { perSecond: number; verdicts: Map<string, number> } {
  const verdicts = new Map<string, number>();
  const started = process.hrtime.bigint();
  for (const { header, ts } of batch) {
    clock = ts;
    const result: VerifyResult = verifier.verify(header, [SECRET], input);
    const key = result.ok ? 'ok' : result.reason;
    verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: Math.round(batch.length / seconds), verdicts };
}

const make = () => new RequestVerifier({ cluster: 'default', baseUrl: SELF, windowMs: WINDOW_MS, now: () => clock, startedAt: 0, maxNonces: BOUND });
const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// fill one verifier to BOUND - ROUNDS * MEASURED nonces (nothing expires: 100 s of a 300 s window)
measure(make(), signedBatch(MEASURED)); // warm-up
const full = make();
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const filled = BOUND - ROUNDS * MEASURED;
for (let done = 0; done < filled; done += 100_000) measure(full, signedBatch(Math.min(100_000, filled - done)));
global.gc?.();
const heldBytes = process.memoryUsage().heapUsed - heapBefore;

// rounds alternate between a fresh verifier (empty cache) and the full one, so that both see the same machine
const empty: number[] = [];
const nearlyFull: number[] = [];
const verdicts = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  empty.push(measure(make(), signedBatch(MEASURED)).perSecond);
  const m = measure(full, signedBatch(MEASURED));
  nearlyFull.push(m.perSecond);
  for (const [k, v] of m.verdicts) verdicts.set(k, (verdicts.get(k) ?? 0) + v);
}
// at the bound: new requests are refused until the oldest bucket expires (again alternating with an empty cache)
const emptyAgain: number[] = [];
const atBound: number[] = [];
const refusals = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  emptyAgain.push(measure(make(), signedBatch(MEASURED)).perSecond);
  const m = measure(full, signedBatch(MEASURED));
  atBound.push(m.perSecond);
  for (const [k, v] of m.verdicts) refusals.set(k, (refusals.get(k) ?? 0) + v);
}

const list = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ');
const rate = (xs: number[]) => `${median(xs).toLocaleString('en')} requests/s`;
console.log(`verify() on a simulated 10,000 requests/s, window ${WINDOW_MS / 1000} s, bound ${BOUND.toLocaleString('en')} nonces; medians of ${ROUNDS} rounds of ${MEASURED.toLocaleString('en')}`);
console.log(`  empty cache:                         ${rate(empty)}`);
console.log(`  ${filled.toLocaleString('en')} to ${BOUND.toLocaleString('en')} nonces held: ${rate(nearlyFull)} (${list(verdicts)}); ratio to empty ${(median(nearlyFull) / median(empty)).toFixed(2)}`);
console.log(`  at the bound:                        ${rate(atBound)} (${list(refusals)}); ratio to empty (${rate(emptyAgain)} in the same rounds) ${(median(atBound) / median(emptyAgain)).toFixed(2)}`);
console.log(`  heap held by ${filled.toLocaleString('en')} nonces: ${(heldBytes / 1024 / 1024).toFixed(0)} MiB (${Math.round(heldBytes / filled)} bytes each)${global.gc ? '' : ' (run with --expose-gc for a cleaner figure)'}`);
