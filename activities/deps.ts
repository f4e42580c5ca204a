import type { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import type OpenAI from 'openai';
import type { AzureOpenAI } from 'openai';
import type { Catalog } from '../src/catalog';
import type { AzureProfile } from '../src/config/profile';
import type { Logger } from '../src/logging';
import type { WorkerConfig } from '../src/config/worker-config';

/** What activities get from the worker that hosts them: configuration (profiles), the catalogue, logging, identity. */
export interface ActivityDeps {
  config: WorkerConfig;
  logger: Logger;
  version: string;
  /** The model catalogue (built in, plus the user's extension); the built-in one when omitted. */
  catalog?: Catalog;
  /** Environment the credentials are read from; process.env when omitted. */
  env?: NodeJS.ProcessEnv;
}

/** The Azure side of the deps: profiles by name and one client of each kind per profile, built on first use. */
export interface AzureAccess {
  profile(name: string): AzureProfile;
  /** Data plane, dated family (files, fine-tuning, inference). */
  openai(profileName: string): AzureOpenAI;
  /** Data plane, v1 family: for v1-only operations (checkpoint copy). */
  openaiV1(profileName: string): OpenAI;
  /** Azure Resource Manager (deployments). */
  arm(profileName: string): CognitiveServicesManagementClient;
}
