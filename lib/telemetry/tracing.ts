import {
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Context,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Job, JobTraceContext } from '../store/job.types.js';

let provider: TracerProvider | undefined;
let cached: Tracer | undefined;
/**
 * The scheduler's tracer, made once per global provider: `getTracer` on the
 * API's proxy provider allocates a new tracer on every call while no SDK is
 * registered, and re-registering a provider (tests do) makes a new proxy.
 */
function tracer(): Tracer {
  const current = trace.getTracerProvider();
  if (current !== provider || !cached) {
    provider = current;
    cached = current.getTracer('nestjs-scheduler');
  }
  return cached;
}

/**
 * The active span's ids, kept on a job at enqueue so its attempts join the trace.
 * @internal
 */
export function captureTraceContext(): JobTraceContext | null {
  const span = trace.getSpanContext(context.active());
  if (!span || !trace.isSpanContextValid(span)) return null;
  return { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags };
}

/** What a proxy provider delegates to while no SDK is registered (one instance per copy of the API). */
const NOOP_DELEGATE = new ProxyTracerProvider().getDelegate();
const NO_SPAN = { span: null, ctx: ROOT_CONTEXT } as const;

/**
 * Whether spans may record: false while the API's global provider is a
 * proxy with no SDK behind it. Asked per attempt, as an SDK may be
 * registered at any time; any other provider counts as tracing.
 */
function tracing(): boolean {
  const current = trace.getTracerProvider();
  return !(current instanceof ProxyTracerProvider) || current.getDelegate() !== NOOP_DELEGATE;
}

/**
 * Starts the span of one attempt, parented by the enqueue's trace context.
 * Without an SDK and without a trace to carry on, there is no span (`null`)
 * and the handler runs in the root context: creating a span that records
 * nothing was ~3 % of a memory-store drain.
 * @internal
 */
export function startAttemptSpan(job: Job<unknown>): { span: Span | null; ctx: Context } {
  if (!job.trace && !tracing()) return NO_SPAN;
  const parent = job.trace ? trace.setSpanContext(ROOT_CONTEXT, { ...job.trace, isRemote: true }) : ROOT_CONTEXT;
  // A workflow step's job is named after its step (its workflow span is the parent).
  const step = typeof job.meta.step === 'string' && typeof job.meta.workflow === 'string' ? { workflow: job.meta.workflow, step: job.meta.step } : null;
  const span = tracer().startSpan(step ? `step ${step.workflow}.${step.step}` : `job ${job.name}`, { kind: SpanKind.CONSUMER }, parent);
  // Without an SDK the span does not record: skip building its attributes,
  // and, when it carries no trace either, the context that would hold it.
  if (!span.isRecording()) {
    const spanContext = span.spanContext();
    const empty = spanContext === INVALID_SPAN_CONTEXT || !trace.isSpanContextValid(spanContext);
    return { span, ctx: empty ? parent : trace.setSpan(parent, span) };
  }
  span.setAttributes({
    'job.id': job.id,
    'job.name': job.name,
    'job.queue': job.queue,
    'job.attempt': job.attempt,
    'job.max_attempts': job.maxAttempts,
    'messaging.system': 'nestjs-scheduler',
    'messaging.operation.type': 'process',
    'messaging.destination.name': job.queue,
    ...(job.schedule ? { 'job.schedule': job.schedule } : {}),
    ...(step ? { 'workflow.name': step.workflow, 'workflow.step': step.step } : {}),
  });
  return { span, ctx: trace.setSpan(parent, span) };
}

/**
 * Ends an attempt's span with its outcome.
 * @internal
 */
export function endAttemptSpan(span: Span, outcome: string, error?: unknown): void {
  span.setAttribute('job.outcome', outcome);
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : new Error(String(error)));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}
