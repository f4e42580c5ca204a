/** What a run knows of its place in its resource's admission queue. Plain data, workflow-safe. */
import type { SlotAmounts } from './limits';

/** The queue's message to a run: where it stands, then its grant. */
export interface AdmissionNotice {
  resource: string;
  state: 'waiting' | 'granted';
  /** 1 = next; 0 once granted. */
  position: number;
  reason: string;
  /** The grant this notice is about when it is not the run's own job/file slots (a deployment slot's key). */
  key?: string;
}

export interface RunAdmission {
  /** The admission queue's workflow id. */
  queue: string;
  resource: string;
  state: 'requested' | 'waiting' | 'granted' | 'released';
  position: number | null;
  /** Why the run waits (which slots are short), or what it holds. */
  reason: string;
  amounts: SlotAmounts;
  requestedAt: string;
  grantedAt: string | null;
  /** Seconds from the request to the grant. */
  waitedSeconds: number | null;
}

/** The key of the deployment slot held for a deployment on a queue's resource (deployment names are case-insensitive). */
export function deploymentSlotKey(name: string): string {
  return `deployment:${name.toLowerCase()}`;
}

/** The admission queue's workflow id for a resource: one per account and task queue. */
export function admissionWorkflowId(resource: string, taskQueue: string): string {
  return `ftpipe-admission:${taskQueue}:${resource.toLowerCase()}`;
}
