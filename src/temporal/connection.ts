/**
 * How clients and workers reach Temporal: a local dev server, a self-hosted cluster, or Temporal Cloud.
 * Read from the environment (TEMPORAL_*), the way Temporal's own tools are configured. The API key and TLS key are
 * secrets: they are passed to the connection only, never logged.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { DEFAULT_NAMESPACE, DEFAULT_TEMPORAL_ADDRESS } from './constants';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Options for `Connection.connect` / `NativeConnection.connect` (both accept this shape). */
  connectionOptions: TemporalConnectionOptions;
}

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface TemporalTargetOverrides {
  address?: string;
  namespace?: string;
}

/**
 * Environment variables: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY (Temporal Cloud API key; implies TLS),
 * TEMPORAL_TLS (`true` for TLS with system roots), TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY (mTLS client cert and key files),
 * TEMPORAL_TLS_CA (server CA file), TEMPORAL_TLS_SERVER_NAME.
 */
export function temporalTargetFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: TemporalTargetOverrides = {}): TemporalTarget {
  const address = overrides.address ?? env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS;
  const namespace = overrides.namespace ?? env.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE;
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const certPath = env.TEMPORAL_TLS_CERT;
  const keyPath = env.TEMPORAL_TLS_KEY;
  if (!!certPath !== !!keyPath) {
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (mTLS client certificate and its key)');
  }
  const wantsTls = apiKey !== undefined || certPath !== undefined || env.TEMPORAL_TLS === 'true' || !!env.TEMPORAL_TLS_CA;
  const connectionOptions: TemporalConnectionOptions = { address };
  if (wantsTls) {
    connectionOptions.tls = {
      ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(env.TEMPORAL_TLS_CA ? { serverRootCACertificate: readFileSync(env.TEMPORAL_TLS_CA) } : {}),
      ...(certPath && keyPath ? { clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) } } : {}),
    };
  }
  if (apiKey) {
    connectionOptions.apiKey = apiKey;
    connectionOptions.metadata = { 'temporal-namespace': namespace };
  }
  return { address, namespace, connectionOptions };
}
