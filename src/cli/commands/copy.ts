/** `ftpipe copy`: copies a run's chosen checkpoint to another account/region while the run goes (the `copyToRegionRun` update). */
import { InvalidArgumentError, type Command } from 'commander';
import { CopyRequestError, type CopyRequest } from '../../client';
import { DEPLOYMENT_TYPES } from '../../pipeline/input';
import { withConnectionFlags, withPipeline, type ConnectionFlags } from '../connection';
import { usageError } from '../usage';
import { failureMessage } from './runs';

interface CopyFlags extends ConnectionFlags {
  to: string;
  region: string;
  deployName?: string;
  deployProfile?: string;
  deployType?: (typeof DEPLOYMENT_TYPES)[number];
}

/** The request's fields as the command line spells them, so that a refusal names the flag to fix. */
const FLAG_OF: Record<string, string> = {
  destinationResourceId: '--to',
  region: '--region',
  'deploy.name': '--deploy-name',
  'deploy.profile': '--deploy-profile',
  'deploy.type': '--deploy-type',
};

function asFlags(issue: string): string {
  return issue.replace(/^([\w.]+): /, (whole, field: string) => (FLAG_OF[field] ? `${FLAG_OF[field]}: ` : whole));
}

function deploymentType(value: string): (typeof DEPLOYMENT_TYPES)[number] {
  const type = DEPLOYMENT_TYPES.find((t) => t === value);
  if (!type) throw new InvalidArgumentError(`one of ${DEPLOYMENT_TYPES.join(', ')}`);
  return type;
}

export function copyRequestFromFlags(flags: CopyFlags): CopyRequest {
  if ((flags.deployProfile || flags.deployType) && !flags.deployName) throw usageError('--deploy-profile and --deploy-type go with --deploy-name');
  if (flags.deployName && !flags.deployProfile) {
    throw usageError('--deploy-name needs --deploy-profile: the worker profile of the destination account, through which the copy is deployed');
  }
  return {
    destinationResourceId: flags.to,
    region: flags.region,
    ...(flags.deployName && flags.deployProfile
      ? { deploy: { name: flags.deployName, profile: flags.deployProfile, type: flags.deployType ?? 'GlobalStandard', capacity: 1 } }
      : {}),
  };
}

export function registerCopyCommand(program: Command): void {
  withConnectionFlags(program.command('copy <run>'))
    .description('Copy the run\'s chosen checkpoint to another Azure OpenAI account and region (and deploy it there with --deploy-name); refused once the run has ended')
    .requiredOption('--to <resourceId>', 'ARM id of the destination account: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>')
    .requiredOption('--region <region>', 'the destination account\'s region, e.g. northcentralus')
    .option('--deploy-name <name>', 'deploy the copy there under this name')
    .option('--deploy-profile <profile>', 'the worker profile of the destination account (with --deploy-name)')
    .option('--deploy-type <type>', `deployment type there (with --deploy-name): ${DEPLOYMENT_TYPES.join(', ')} (default GlobalStandard)`, deploymentType)
    .action(async (run: string, flags: CopyFlags) => {
      const request = copyRequestFromFlags(flags);
      await withPipeline(flags, run, async ({ handle, execution }) => {
        if (execution !== 'RUNNING') throw new Error(`run ${handle.workflowId} has closed (${execution.toLowerCase()}): a copy is asked for while the run goes, or in a run's input (copies)`);
        const record = await handle.copy(request).catch((err: unknown) => {
          if (err instanceof CopyRequestError) throw usageError(`copy: ${err.issues.map(asFlags).join('; ')}`);
          throw new Error(failureMessage(err));
        });
        const deploy = request.deploy ? `, then deployed there as ${request.deploy.name} (profile ${request.deploy.profile})` : '';
        console.log(`copy of ${handle.workflowId}'s chosen checkpoint to ${record.region} (${record.destinationResourceId}) ${record.status}${deploy}; follow it with ftpipe status ${run}`);
      });
    });
}
