/**
 * The Temporal connection flags, declared once for every command that talks to a Temporal server (runs, schedules,
 * watch, report, worker, doctor). Unset flags fall back to the TEMPORAL_* environment and Temporal's TOML profiles.
 */
import type { Command } from 'commander';
import { FtpipeClient, type PipelineHandle } from '../client';
import type { TemporalTargetOverrides } from '../temporal/connection';

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
}

export function withConnectionFlags(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend address (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <ns>', 'Temporal namespace (default $TEMPORAL_NAMESPACE or default)');
}

/** The flags that were given, as overrides of the environment's Temporal target. */
export function connectionOverrides(flags: ConnectionFlags): TemporalTargetOverrides {
  return { ...(flags.address ? { address: flags.address } : {}), ...(flags.namespace ? { namespace: flags.namespace } : {}) };
}

export async function connect(flags: ConnectionFlags): Promise<FtpipeClient> {
  return FtpipeClient.connect(connectionOverrides(flags));
}

/** Connects, finds the run (workflow id or run name), hands it to `use`, and closes the connection however `use` ends. */
export async function withPipeline<T>(flags: ConnectionFlags, run: string, use: (found: { handle: PipelineHandle; execution: string }) => Promise<T>): Promise<T> {
  const client = await connect(flags);
  try {
    return await use(await client.findPipeline(run));
  } finally {
    await client.close();
  }
}
