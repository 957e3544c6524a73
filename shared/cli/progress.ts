/** A one-line progress display on a terminal (stderr), silent otherwise so pipes and logs stay clean. */
import { clean } from './render.ts';

export class Progress {
  private readonly stream: NodeJS.WritableStream & { columns?: number };
  private readonly enabled: boolean;
  private drawn = false;

  constructor(stream: NodeJS.WritableStream & { columns?: number }, enabled: boolean) {
    this.stream = stream;
    this.enabled = enabled;
  }

  update(text: string): void {
    if (!this.enabled) return;
    // `columns` is 0 or missing when the terminal size is unknown (e.g. under `script`)
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(`\r\u001b[2K${clean(text).slice(0, width)}`);
    this.drawn = true;
  }

  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\u001b[2K');
    this.drawn = false;
  }
}
