import type { KubeObject } from './object.js';

// core/v1 Event and events.k8s.io/v1 Event are one stored kind under two shapes: these rename
// the fields that differ, both ways.
const renames: [core: string, v1: string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];

function rename(object: KubeObject, from: 0 | 1, apiVersion: string): KubeObject {
  const out: KubeObject = { ...object, apiVersion, kind: 'Event' };
  for (const pair of renames) {
    const src = pair[from];
    const dst = pair[from === 0 ? 1 : 0];
    if (src in out) {
      out[dst] = out[src];
      delete out[src];
    }
  }
  return out;
}

export const coreEventToEventsV1 = (o: KubeObject): KubeObject => rename(o, 0, 'events.k8s.io/v1');
export const eventsV1ToCoreEvent = (o: KubeObject): KubeObject => rename(o, 1, 'v1');
