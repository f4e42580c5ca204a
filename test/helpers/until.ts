/**
 * Waits for a state, not for a time: calls `probe` until it returns a value (errors count as "not yet", and the last
 * one is named if the bound passes). The bound is generous; it only keeps a broken test from hanging.
 */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  // Whether the probes after the last error answered "not yet": the error then is not why the state was not reached.
  let answeredSince = 0;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      answeredSince++;
    } catch (err) {
      lastError = err;
      answeredSince = 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const error = lastError instanceof Error ? `: ${withCauses(lastError)}${answeredSince > 0 ? ` (${answeredSince} probes answered "not yet" since)` : ''}` : '';
  throw new Error(`timed out waiting for ${what}${error}`);
}

/** An error's message and its causes' (the client's "Failed to query Workflow" hides the gRPC status in its cause). */
function withCauses(err: Error): string {
  const messages: string[] = [];
  for (let e: unknown = err; e instanceof Error && messages.length < 4; e = e.cause) messages.push(e.message);
  return messages.join(': ');
}

/**
 * `promise`, or an error naming `what` once `timeoutMs` has passed: for a wait with no state to poll (a run's result,
 * a teardown), a generous bound that only keeps a broken test from hanging its file.
 */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
