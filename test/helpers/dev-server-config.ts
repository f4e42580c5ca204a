/** What every dev server the tests start (the run's shared one and a file's own) runs with. */
import type { DevServerOptions } from '../../src/devserver/dev-server';

/**
 * The server's timer queue fires nothing earlier than now + `history.timerProcessorMaxTimeShift` (1 s by default), so
 * each of a run's sub-second waits (FAST_POLLING's 0.2 s polls, the 0.1 s "not done yet" retries of the file, deployment
 * and copy waits) took a second: a run with an evaluation took 17.2 s, 7.4 s with the shift at 20 ms. With it at
 * 10 ms a test's timers fire when the test asked for them. Side by side at the same load: the post-training, requests
 * and conformance A files 337 -> 271 s, for the same CPU.
 */
export const TEST_DYNAMIC_CONFIG: NonNullable<DevServerOptions['dynamicConfig']> = { 'history.timerProcessorMaxTimeShift': '10ms' };

/** `options` with the tests' dynamic config under their own. */
export function testServerOptions(options: DevServerOptions = {}): DevServerOptions {
  return { ...options, dynamicConfig: { ...TEST_DYNAMIC_CONFIG, ...options.dynamicConfig } };
}
