/** Shared setup for the emulator tests: an emulator on free ports and real clients built through src/azure/clients.ts. */
import type { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import type OpenAI from 'openai';
import type { AzureOpenAI } from 'openai';
import { createArmClient, createOpenAIClient, createOpenAIV1Client, type OpenAIClientOptions } from '../../src/azure/clients';
import { AzureProfileSchema, type AzureProfile } from '../../src/config/profile';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator';

export interface TestEmulator {
  emu: RunningEmulator;
  env: Record<string, string>;
  profile(account: string): AzureProfile;
  openai(account: string, options?: OpenAIClientOptions): AzureOpenAI;
  v1(account: string, options?: OpenAIClientOptions): OpenAI;
  arm(account: string): CognitiveServicesManagementClient;
}

const keyEnv = (account: string): string => `EMU_KEY_${account.toUpperCase().replace(/-/g, '_')}`;

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emu = await startEmulator({ clockScale: 0, ...options });
  const env: Record<string, string> = { EMU_ARM_TOKEN: emu.acceptedTokens[0]! };
  for (const a of emu.accounts) env[keyEnv(a.name)] = a.apiKey;
  const profile = (name: string): AzureProfile => {
    const a = emu.account(name);
    return AzureProfileSchema.parse({
      name: `emulator-${a.name}`,
      endpoint: a.endpoint,
      subscriptionId: a.subscriptionId,
      resourceGroup: a.resourceGroup,
      account: a.name,
      region: a.region,
      armEndpoint: emu.armEndpoint,
      auth: { type: 'apiKey', apiKeyEnv: keyEnv(a.name), armTokenEnv: 'EMU_ARM_TOKEN' },
      caCertPath: emu.caCertPath,
    });
  };
  return {
    emu,
    env,
    profile,
    openai: (name, o = { maxRetries: 0 }) => createOpenAIClient(profile(name), env, o),
    v1: (name, o = { maxRetries: 0 }) => createOpenAIV1Client(profile(name), env, o),
    arm: (name) => createArmClient(profile(name), env),
  };
}

/** A chat-format training file: `count` examples whose prompts are `${prefix} question i`. */
export function chatJsonl(count: number, prefix = 'q', bom = true): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(
      JSON.stringify({
        messages: [
          { role: 'system', content: 'You answer briefly.' },
          { role: 'user', content: `${prefix} question ${i}` },
          { role: 'assistant', content: `${prefix} answer ${i}` },
        ],
      }),
    );
  }
  return (bom ? '\uFEFF' : '') + lines.join('\n') + '\n';
}

export async function uploadProcessed(t: TestEmulator, account: string, content: string, name = 'train.jsonl'): Promise<string> {
  const client = t.openai(account);
  const file = await client.files.create({ file: new File([content], name, { type: 'application/jsonl' }), purpose: 'fine-tune' });
  t.emu.control.advanceClock(60);
  const processed = await client.files.retrieve(file.id);
  if (processed.status !== 'processed') throw new Error(`file ${file.id} is ${processed.status}`);
  return file.id;
}

/** Advances the frozen clock in steps until `done` holds (each step lets lazily advanced state move). */
export async function advanceUntil(t: TestEmulator, seconds: number, done: () => Promise<boolean>, maxSteps = 200): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (await done()) return;
    t.emu.control.advanceClock(seconds);
  }
  throw new Error(`condition not reached after ${maxSteps} clock steps of ${seconds} s`);
}
