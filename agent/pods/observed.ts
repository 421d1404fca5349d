// What the runtime holds for one assignment key, as the planner reads it: every sandbox of ours
// labelled with the key (of any uid: an old one may still be there), each with its container
// instances. Times are milliseconds since the epoch (CRI reports nanoseconds).
import type { ContainerState } from '../cri/types.js';

export interface ObservedContainer {
  id: string;
  name: string;
  /** CRI metadata attempt: the restart count the instance was created with. */
  attempt: number;
  restartCount: number;
  state: ContainerState;
  createdAt: number;
  /** 0 when it never started. */
  startedAt: number;
  /** 0 while running. */
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  image: string;
  imageRef: string;
  /** Absolute path of its CRI log file. */
  logPath: string;
  gracePeriodSeconds: number | undefined;
}

export interface ObservedSandbox {
  id: string;
  uid: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  revision: string | undefined;
  /** The pod IP, when the sandbox has one. */
  ip: string | undefined;
  runtimeHandler: string;
  /** Newest first. */
  containers: ObservedContainer[];
}

export interface ObservedPod {
  key: string;
  /** Newest first. */
  sandboxes: ObservedSandbox[];
}

export function nanosToMs(ns: number): number {
  return Math.floor(ns / 1e6);
}

/** The newest instance of container `name` in `sandbox`. */
export function latestInstance(sandbox: ObservedSandbox, name: string): ObservedContainer | undefined {
  return sandbox.containers.find((c) => c.name === name);
}
