// A floor page's view of the floor's event stream, for suites and benchmarks: the last snapshot
// with every change since applied, by kind and key, as the page keeps it.
import { request } from 'node:http';
import type { FloorChange, FloorItem, FloorSnapshot } from '../../operator/floor/floor-view.js';

/** The floor as a page holds it: the last snapshot with every change since applied. */
export class FloorStream {
  readonly items = new Map<string, FloorItem>();
  private readonly close: () => void;

  /** Reads the stream at `url` (the floor's /floor/events); `onEvent` runs after each event is applied. */
  constructor(url: URL, token?: string, private readonly onEvent: () => void = () => {}) {
    const req = request(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          this.take(pending.slice(0, end));
          pending = pending.slice(end + 2);
        }
      });
    });
    req.on('error', () => {});
    req.end();
    this.close = () => req.destroy();
  }

  private take(block: string): void {
    const name = /^event: (\w+)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (!name || data === undefined) return;
    if (name === 'snapshot') {
      this.items.clear();
      for (const item of (JSON.parse(data) as FloorSnapshot).items) this.items.set(`${item.kind} ${item.key}`, item);
    } else if (name === 'change') {
      const change = JSON.parse(data) as FloorChange;
      for (const r of change.remove) this.items.delete(`${r.kind} ${r.key}`);
      for (const item of change.upsert) this.items.set(`${item.kind} ${item.key}`, item);
    }
    this.onEvent();
  }

  of<K extends FloorItem['kind']>(kind: K): Extract<FloorItem, { kind: K }>[] {
    return [...this.items.values()].filter((i): i is Extract<FloorItem, { kind: K }> => i.kind === kind);
  }

  stop(): void {
    this.close();
  }
}
