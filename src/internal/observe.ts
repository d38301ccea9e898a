/**
 * The pools' observability: plain counters and histograms each executor
 * updates synchronously, registered into Effect's metric registry so that
 * they are read only when metrics are snapshotted; and task spans, made in
 * the caller's tracer only when the caller has one (see `caller`).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Tracer from "effect/Tracer"
import { BrokenExecutor, type ExecutorKind } from "../Errors.ts"
import * as Observability from "../Observability.ts"
import { isTask } from "../Task.ts"
import type { FutureImpl } from "./future/state.ts"
import { replay, type WireParent, type WireSpan } from "./remoteSpans.ts"

/** Metric.HistogramState kept in plain arrays: `record` is a few comparisons and additions. */
/** @internal */
export class Histogram {
  private readonly boundaries: ReadonlyArray<number>
  private readonly counts: Float64Array
  private count = 0
  private sum = 0
  private min = Number.MAX_VALUE
  private max = -Number.MAX_VALUE
  /** Values of 0 recorded as one increment, for the many tasks that waited not at all; added in on reading. */
  zeros = 0

  constructor(boundaries: ReadonlyArray<number>) {
    this.boundaries = [...boundaries].sort((a, b) => a - b)
    this.counts = new Float64Array(this.boundaries.length + 1)
  }

  record(value: number): void {
    const boundaries = this.boundaries
    let i = 0
    while (i < boundaries.length && value > boundaries[i]) i++
    this.counts[i]++
    this.count++
    this.sum += value
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
  }

  state(): Metric.HistogramState {
    const zeros = this.zeros
    let cumulated = zeros
    const buckets = this.boundaries.map((boundary, i): [number, number] => [boundary, (cumulated += this.counts[i])])
    return {
      buckets,
      count: this.count + zeros,
      min: zeros > 0 ? Math.min(0, this.min) : this.min,
      max: zeros > 0 ? Math.max(0, this.max) : this.max,
      sum: this.sum
    }
  }
}

/** What the pool reports for the gauges, read when metrics are snapshotted. */
/** @internal */
export interface PoolGauges {
  readonly queueDepth: () => number
  readonly busy: () => number
  readonly idle: () => number
}

/** The caller's tracing, when it has a tracer of its own: what a task span needs from the caller's context. */
/** @internal */
export interface Caller {
  readonly tracer: Tracer.Tracer
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly sampled: boolean
  readonly clock: Clock.Clock
  readonly timing: boolean
  readonly annotations: Readonly<Record<string, unknown>>
  readonly links: ReadonlyArray<Tracer.SpanLink>
}

/** One traced task: its caller's tracing, and its span once it started. */
/** @internal */
export class TaskTrace {
  readonly caller: Caller
  readonly taskName: string
  span: Tracer.Span | undefined = undefined
  ended = false

  constructor(caller: Caller, taskName: string) {
    this.caller = caller
    this.taskName = taskName
  }

  /** The task span's ids, for a worker. */
  parent(): WireParent | undefined {
    const span = this.span
    return span === undefined ? undefined : { traceId: span.traceId, spanId: span.spanId, sampled: span.sampled }
  }
}

/** A span that disables propagation is skipped, as Effect skips it when it picks a parent. */
const propagating = (span: Tracer.AnySpan | undefined): Option.Option<Tracer.AnySpan> => {
  while (span !== undefined) {
    if (!Context.get(span.annotations, Tracer.DisablePropagation)) return Option.some(span)
    span = span._tag === "Span" ? Option.getOrUndefined(span.parent) : undefined
  }
  return Option.none()
}

/**
 * The tracing of the fiber whose context this is, or `undefined` when task
 * spans would go nowhere: no tracer but Effect's default one (which exports
 * nothing), or tracing turned off (`Effect.withTracerEnabled(false)`).
 */
const callerOf = (context: Context.Context<never>): Caller | undefined => {
  const tracer = Context.getOrUndefined(context, Tracer.Tracer)
  if (tracer === undefined || tracer === Tracer.nativeTracer) return undefined
  if (!Context.get(context, References.TracerEnabled)) return undefined
  const parent = propagating(Context.getOrUndefined(context, Tracer.ParentSpan))
  const sampled =
    Option.isSome(parent) && !parent.value.sampled
      ? false
      : !LogLevel.isGreaterThan(
          Context.get(context, Tracer.MinimumTraceLevel),
          Context.get(context, Tracer.CurrentTraceLevel)
        )
  return {
    tracer,
    parent,
    sampled,
    clock: Context.get(context, Clock.Clock),
    timing: Context.get(context, References.TracerTimingEnabled),
    annotations: Context.get(context, References.TracerSpanAnnotations),
    links: Context.get(context, References.TracerSpanLinks)
  }
}

/** The name a task span shows for a task: a Task's export name, a function's name, or `effect`. */
const taskNameOf = (task: unknown): string =>
  isTask(task) ? task.name : typeof task === "function" ? task.name || "anonymous" : "effect"

const zero = BigInt(0)

/** One executor's counters, histograms and tracing. */
/** @internal */
export class ExecutorObserver {
  readonly kind: ExecutorKind
  readonly name: string
  /** Futures made, and those ended by outcome: what the counters read. */
  submitted = 0
  success = 0
  failure = 0
  defect = 0
  cancelled = 0
  broken = 0
  readonly queueWait = new Histogram(Observability.millisBoundaries)
  readonly runTime = new Histogram(Observability.millisBoundaries)
  /** The last submitting context and its tracing (held until a submit from another context). */
  private lastContext: Context.Context<never> | undefined = undefined
  private lastCaller: Caller | undefined = undefined
  private stampValue = -1

  constructor(kind: ExecutorKind, name: string) {
    this.kind = kind
    this.name = name
  }

  /** Told by every future this executor made, once, as it ends: counts its outcome. */
  readonly onEnd = (future: FutureImpl<any, any>): void => {
    if (future.state !== "FINISHED") {
      this.cancelled++
      return
    }
    const exit = future.exit!
    if (exit._tag === "Success") {
      this.success++
      return
    }
    for (const reason of exit.cause.reasons) {
      if (reason._tag === "Fail") {
        if (reason.error instanceof BrokenExecutor) this.broken++
        else this.failure++
        return
      }
      if (reason._tag === "Die") {
        this.defect++
        return
      }
    }
    this.cancelled++
  }

  /**
   * Now, in milliseconds, for a submit: one clock read per synchronous burst
   * of submits (until the next microtask), since a read costs as much as a
   * tiny task's bookkeeping.
   */
  stamp(): number {
    if (this.stampValue < 0) {
      this.stampValue = performance.now()
      queueMicrotask(this.clearStamp)
    }
    return this.stampValue
  }

  private readonly clearStamp = (): void => {
    this.stampValue = -1
  }

  /**
   * The trace of a task submitted from `context`, or `undefined` when the
   * caller has no tracer of its own. The answer is kept for the last context
   * seen, so a burst of submits from one fiber decides once.
   */
  trace(context: Context.Context<never> | undefined, task: unknown): TaskTrace | undefined {
    if (context === undefined) return undefined
    if (context !== this.lastContext) {
      this.lastContext = context
      this.lastCaller = callerOf(context)
    }
    return this.lastCaller === undefined ? undefined : new TaskTrace(this.lastCaller, taskNameOf(task))
  }

  /** Starts the task span, once, now. */
  startSpan(trace: TaskTrace, workerId: string | number, queueWaitMillis: number): Tracer.Span | undefined {
    if (trace.span !== undefined) return trace.span
    const caller = trace.caller
    try {
      const span = caller.tracer.span({
        name: Observability.taskSpanName(trace.taskName),
        parent: caller.parent,
        annotations: Context.empty(),
        links: caller.links.length === 0 ? [] : caller.links.slice(),
        startTime: caller.timing ? caller.clock.currentTimeNanosUnsafe() : zero,
        kind: "internal",
        root: Option.isNone(caller.parent),
        sampled: caller.sampled
      })
      for (const key in caller.annotations) span.attribute(key, caller.annotations[key])
      span.attribute(Observability.TaskNameAttribute, trace.taskName)
      span.attribute(Observability.ExecutorKindAttribute, this.kind)
      span.attribute(Observability.ExecutorNameAttribute, this.name)
      span.attribute(Observability.WorkerIdAttribute, workerId)
      span.attribute(Observability.QueueWaitAttribute, Math.max(0, queueWaitMillis))
      trace.span = span
      return span
    } catch {
      // The user's tracer failed: the task runs untraced.
      trace.ended = true
      return undefined
    }
  }

  /** Ends the task span, once, with the task's exit. */
  endSpan(trace: TaskTrace, exit: Exit.Exit<unknown, unknown>): void {
    if (trace.ended || trace.span === undefined) return
    trace.ended = true
    const caller = trace.caller
    try {
      trace.span.end(caller.timing ? caller.clock.currentTimeNanosUnsafe() : zero, exit)
    } catch {
      // The user's tracer failed; the task's outcome must not.
    }
  }

  /** Replays the spans a worker recorded for a task under its span. */
  replay(trace: TaskTrace, spans: ReadonlyArray<WireSpan>): void {
    if (trace.span !== undefined && !trace.ended) replay(trace.caller.tracer, trace.span, spans)
  }

  /** The task's Effect in its span: the span starts when the Effect does and ends with it. */
  inSpan<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    trace: TaskTrace,
    workerId: string,
    queueWaitMillis: () => number
  ): Effect.Effect<A, E, R> {
    return Effect.suspend(() => {
      const span = this.startSpan(trace, workerId, queueWaitMillis())
      if (span === undefined) return effect
      return Effect.onExit(Effect.provideService(effect, Tracer.ParentSpan, span), (exit) =>
        Effect.sync(() => this.endSpan(trace, exit))
      )
    })
  }

  /**
   * Registers this executor's series in the metric registry of `context`;
   * they are read, never pushed. Returns the removal, for when the executor
   * closes.
   */
  register(context: Context.Context<never>, gauges: PoolGauges): () => void {
    const attributes = Observability.attributes(this)
    const registrations: Array<Metric.Registration> = []
    const add = <State>(metric: Metric.Metric<any, State>, get: () => State, extra?: Record<string, string>) => {
      registrations.push(
        Metric.registerUnsafe(
          Metric.withAttributes(metric, extra === undefined ? attributes : { ...attributes, ...extra }),
          context,
          { get, update: () => {}, modify: () => {} }
        )
      )
    }
    const counter = (count: () => number) => () => ({ count: count(), incremental: true })
    add(
      Observability.tasksSubmitted,
      counter(() => this.submitted)
    )
    const outcomes: Record<Observability.Outcome, () => number> = {
      success: () => this.success,
      failure: () => this.failure,
      defect: () => this.defect,
      cancelled: () => this.cancelled,
      broken: () => this.broken
    }
    for (const outcome of Observability.outcomes) {
      add(Observability.tasksCompleted, counter(outcomes[outcome]), {
        [Observability.OutcomeAttribute]: outcome
      })
    }
    add(Observability.queueDepth, () => ({ value: gauges.queueDepth() }))
    add(Observability.workersBusy, () => ({ value: gauges.busy() }))
    add(Observability.workersIdle, () => ({ value: gauges.idle() }))
    add(Observability.taskQueueWait, () => this.queueWait.state())
    add(Observability.taskRunTime, () => this.runTime.state())
    return () => {
      for (const registration of registrations) registration.remove()
    }
  }
}
