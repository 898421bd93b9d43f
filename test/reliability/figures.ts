/** Reliability figures: printed, and collected in reliability-results.json by the suite. */
import { appendFileSync } from 'node:fs';

export function report(scenario: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ scenario, ...figures });
  console.log(`FIGURE ${line}`);
  appendFileSync(process.env.RELIABILITY_RESULTS ?? 'reliability-results.jsonl', `${line}\n`);
}
