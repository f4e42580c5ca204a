/**
 * `keepDeploymentAlive`: started by a promoted deployment's keep-alive schedule (`deployment.idle: keepAlive`, see
 * src/client/schedules.ts), it calls the deployment once, which resets Azure's 15 days without calls. A call that finds
 * the deployment gone deletes the schedule. Workflow-safe.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { KeepAliveCall } from '../activities/keep-alive';
import { messageOrFail } from './boundary';
import { parseKeepAliveInput, type KeepAliveInput } from './boundary-schemas';

export type { KeepAliveInput } from './boundary-schemas';

// A few minutes of retries (a throttled or briefly failing deployment); the next scheduled call comes anyway.
const { pingDeployment } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6 },
});

export async function keepDeploymentAlive(raw: KeepAliveInput): Promise<KeepAliveCall & KeepAliveInput> {
  const input = messageOrFail(parseKeepAliveInput, raw, 'keep-alive');
  return { ...input, ...(await pingDeployment(input)) };
}
