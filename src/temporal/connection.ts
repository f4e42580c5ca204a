/**
 * How clients and workers reach Temporal: a local dev server, a self-hosted cluster, or Temporal Cloud.
 * Read by @temporalio/envconfig, as Temporal's own tools read it: a TOML profile (TEMPORAL_CONFIG_FILE, default
 * ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE, default "default"), overridden by Temporal's environment
 * variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, ...).
 * The API key and TLS key are secrets: they are passed to the connection only, never logged or put in an error.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { DEFAULT_NAMESPACE, DEFAULT_TEMPORAL_ADDRESS } from './constants';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Options for `Connection.connect` / `NativeConnection.connect` (both accept this shape). */
  connectionOptions: TemporalConnectionOptions;
  /** Deprecation notes for old variable names found in the environment (also emitted as process warnings). */
  deprecations: string[];
  /** Where the address came from, for messages: `--address`, `TEMPORAL_ADDRESS`, a TOML profile, or the default. */
  addressSource: string;
}

export interface TemporalConnectionOptions {
  address: string;
  /** `true`: TLS with the system's roots; `false`: TLS switched off (`TEMPORAL_TLS=false`, `tls.disabled`). */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface TemporalTargetOverrides {
  address?: string;
  namespace?: string;
  /** Profile of the TOML file (default $TEMPORAL_PROFILE, then "default"). */
  profile?: string;
  /** The TOML file (default $TEMPORAL_CONFIG_FILE, then ~/.config/temporalio/temporal.toml). */
  configFile?: string;
}

/** ftpipe's own names before it used Temporal's, with the Temporal name each now stands for. */
const DEPRECATED_VARIABLES = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
} as const;

/**
 * Temporal's environment with the deprecated names carried over to their Temporal names (a Temporal name wins).
 * An empty variable counts as unset (as Compose passes `${VAR:-}`), not as an empty address or key.
 */
function withTemporalNames(env: NodeJS.ProcessEnv): { vars: Record<string, string>; deprecations: string[] } {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const deprecations: string[] = [];
  for (const [old, current] of Object.entries(DEPRECATED_VARIABLES)) {
    const value = vars[old];
    if (value === undefined) continue;
    if (vars[current] === undefined) {
      vars[current] = value;
      deprecations.push(`${old} is deprecated: set ${current} (Temporal's name for it) instead`);
    } else {
      deprecations.push(`${old} is deprecated and ignored: ${current} is set too`);
    }
  }
  return { vars, deprecations };
}

/** The TOML file envconfig reads for this environment (for messages; envconfig finds it itself). */
function configFileOf(vars: Record<string, string>, explicit: string | undefined): string | undefined {
  if (explicit ?? vars.TEMPORAL_CONFIG_FILE) return explicit ?? vars.TEMPORAL_CONFIG_FILE;
  const base = vars.XDG_CONFIG_HOME ?? (vars.HOME ? join(vars.HOME, '.config') : undefined);
  return base ? join(base, 'temporalio', 'temporal.toml') : undefined;
}

/** An error's message without what it quotes from the file: a TOML parse error shows the lines around it, which may hold an API key. */
function describeLoadError(err: unknown): string {
  if (err instanceof Error && 'line' in err && 'column' in err) return `invalid TOML at line ${String(err.line)}, column ${String(err.column)}`;
  if (err instanceof Error && 'code' in err && 'path' in err) return `${String(err.code)} ${String(err.path)}`;
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/**
 * The Temporal target for this environment: the TOML profile, then Temporal's variables, then `overrides` (CLI flags).
 * Deprecated names (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA) still work, with a deprecation warning.
 */
export function temporalTargetFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: TemporalTargetOverrides = {}): TemporalTarget {
  const { vars, deprecations } = withTemporalNames(env);
  const explicitFile = overrides.configFile ?? vars.TEMPORAL_CONFIG_FILE;
  // envconfig treats a missing file as no file, which would silently drop a profile someone asked for.
  if (explicitFile !== undefined && !existsSync(explicitFile)) {
    throw new Error(`Temporal client configuration file ${explicitFile} (${overrides.configFile ? 'configFile' : 'TEMPORAL_CONFIG_FILE'}) does not exist`);
  }
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      overrideEnvVars: vars,
      ...(explicitFile !== undefined ? { configSource: { path: explicitFile } } : {}),
      ...(overrides.profile !== undefined ? { profile: overrides.profile } : {}),
    });
  } catch (err) {
    const file = configFileOf(vars, explicitFile);
    throw new Error(`cannot read Temporal's client configuration${file ? ` ${file}` : ''}: ${describeLoadError(err)}`);
  }
  const tls = profile.tls;
  if (tls && !tls.disabled && !!tls.clientCert !== !!tls.clientKey) {
    throw new Error('an mTLS client certificate and its key must be given together (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or client_cert_* and client_key_* in the profile)');
  }

  const address = overrides.address ?? profile.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const addressSource = overrides.address ? '--address' : vars.TEMPORAL_ADDRESS ? 'TEMPORAL_ADDRESS' : profile.address ? 'Temporal\'s client profile' : 'the default address';
  const namespace = overrides.namespace ?? profile.namespace ?? DEFAULT_NAMESPACE;
  let connect;
  try {
    connect = toClientOptions({ ...profile, address, namespace });
  } catch (err) {
    throw new Error(`cannot read the TLS files of Temporal's client configuration: ${describeLoadError(err)}`);
  }
  const { tls: tlsOption, apiKey } = connect.connectionOptions;
  const metadata = profile.grpcMeta;
  const connectionOptions: TemporalConnectionOptions = { address };
  if (typeof tlsOption === 'boolean') connectionOptions.tls = tlsOption;
  else if (tlsOption) connectionOptions.tls = Object.fromEntries(Object.entries(tlsOption).filter((e) => e[1] !== undefined));
  if (apiKey !== undefined && typeof apiKey === 'string') {
    connectionOptions.apiKey = apiKey;
    // Temporal Cloud routes API-key requests by this header.
    connectionOptions.metadata = { 'temporal-namespace': namespace, ...metadata };
  } else if (metadata && Object.keys(metadata).length > 0) {
    connectionOptions.metadata = { ...metadata };
  }
  for (const note of deprecations) process.emitWarning(note, { type: 'DeprecationWarning', code: 'FTPIPE_TEMPORAL_ENV' });
  return { address, namespace, connectionOptions, deprecations, addressSource };
}

/**
 * Temporal could not be reached: the SDK says only "Failed to connect before the deadline", so this names the address,
 * where it came from and how to give another (no key or certificate is quoted).
 */
export function temporalUnreachable(target: Pick<TemporalTarget, 'address' | 'namespace' | 'addressSource'>, err: unknown): Error {
  const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  const port = /:\d+$/.test(target.address) ? '' : ' (no port: a Temporal frontend usually listens on :7233)';
  return new Error(`cannot reach Temporal at ${target.address}${port} (${target.addressSource}; namespace ${target.namespace}): ${reason}. Is a server running there? \`ftpipe dev\` starts one; give another address with --address host:port, TEMPORAL_ADDRESS or a TEMPORAL_PROFILE`, { cause: err });
}
