/** Whether the standard OpenTelemetry variables ask for OTLP trace export (light: the CLI checks it before loading the SDK). */
export type Env = Record<string, string | undefined>;

export function otlpTracesConfigured(env: Env = process.env): boolean {
  if ((env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((s) => s.trim()).includes('none')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}
