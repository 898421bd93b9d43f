/**
 * One line of progress on stderr. On a terminal it is rewritten in place; otherwise (a log,
 * a pipe, a test) a line is written only when its state (`key`) changes, so logs stay short.
 */
export class ProgressLine {
  private lastKey: string | undefined;
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(text: string, key = text): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else if (key !== this.lastKey) {
      this.stream.write(`${text}\n`);
    }
    this.lastKey = key;
  }

  /** Ends the line in place, so what follows starts on a fresh line. */
  end(): void {
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}
