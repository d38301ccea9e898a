/**
 * What the executors report through Effect's own `Tracer` and `Metric`: the
 * metrics every executor registers (tasks submitted and completed, queue
 * depth, busy and idle workers, queue wait and run time), the names and
 * attributes of task spans, and the attributes that tell executors apart.
 * No SDK is needed: any exporter that reads Effect's metric registry and
 * tracer (such as `effect/observability`'s OTLP and Prometheus exporters)
 * sees them. See `docs/observability.md`.
 *
 * Beyond Python: `concurrent.futures` has no metrics or tracing.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import type { ExecutorKind } from "./Errors.ts"

/**
 * The attribute naming the executor's kind (`ThreadPool`, `InterpreterPool`,
 * `ProcessPool`), on every metric series and task span.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Observability } from "effect-futures"
 *
 * // The series of every process pool open now
 * const processPools = Metric.snapshot.pipe(
 *   Effect.map((all) => all.filter((s) => s.attributes?.[Observability.ExecutorKindAttribute] === "ProcessPool"))
 * )
 * ```
 *
 * @category attributes
 * @since 0.1.0
 */
export const ExecutorKindAttribute = "executor.kind"

/**
 * The attribute naming the executor (its `name` option, by default
 * `ThreadPoolExecutor-0`, `InterpreterPoolExecutor-0`, ...), on every metric
 * series and task span.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Observability } from "effect-futures"
 *
 * // The queue depth of the pool made with ProcessPoolExecutor.layer({ name: "image-resize" })
 * const depth = Metric.withAttributes(Observability.queueDepth, {
 *   [Observability.ExecutorKindAttribute]: "ProcessPool",
 *   [Observability.ExecutorNameAttribute]: "image-resize"
 * })
 * const queued = Metric.value(depth).pipe(Effect.map((state) => state.value))
 * ```
 *
 * @category attributes
 * @since 0.1.0
 */
export const ExecutorNameAttribute = "executor.name"

/**
 * The attribute of `tasksCompleted` saying how a task ended (an `Outcome`).
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Observability } from "effect-futures"
 *
 * // Each tasksCompleted series in the registry, with the outcome it counts
 * const completed = Metric.snapshot.pipe(
 *   Effect.map((all) =>
 *     all
 *       .filter((s) => s.id === Observability.tasksCompleted.id)
 *       .map((s) => ({ outcome: s.attributes?.[Observability.OutcomeAttribute], state: s.state }))
 *   )
 * )
 * ```
 *
 * @category attributes
 * @since 0.1.0
 */
export const OutcomeAttribute = "outcome"

/**
 * The task span's attribute naming the task: a `Task`'s export name, a
 * function's name (`anonymous` if it has none), or `effect` for an Effect.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import type { Tracer } from "effect"
 * import { Observability } from "effect-futures"
 *
 * declare const spans: ReadonlyArray<Tracer.Span> // collected by your tracer
 * const taskNames = spans
 *   .map((span) => span.attributes.get(Observability.TaskNameAttribute))
 *   .filter((name) => name !== undefined) // e.g. ["isPrime", "anonymous", "effect"]
 * ```
 *
 * @category attributes
 * @since 0.1.0
 */
export const TaskNameAttribute = "task.name"

/**
 * The task span's attribute naming the worker that ran it: the worker's
 * thread name on the thread pool (`<threadNamePrefix>_<n>`), the thread id
 * on the interpreter pool, the process id on the process pool.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import type { Tracer } from "effect"
 * import { Observability } from "effect-futures"
 *
 * declare const spans: ReadonlyArray<Tracer.Span> // collected by your tracer
 * // How many tasks each worker ran
 * const perWorker = new Map<unknown, number>()
 * for (const span of spans) {
 *   const worker = span.attributes.get(Observability.WorkerIdAttribute)
 *   if (worker !== undefined) perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1)
 * }
 * ```
 *
 * @category attributes
 * @since 0.1.0
 */
export const WorkerIdAttribute = "worker.id"

/**
 * The task span's attribute giving, in milliseconds, how long the task waited
 * in the executor's queue before it started (on a worker pool: before it was
 * sent to a worker).
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import type { Tracer } from "effect"
 * import { Observability } from "effect-futures"
 *
 * declare const spans: ReadonlyArray<Tracer.Span> // collected by your tracer
 * // Tasks that waited more than 100 ms for a worker
 * const slowStarts = spans.filter((span) => Number(span.attributes.get(Observability.QueueWaitAttribute)) > 100)
 * ```
 *
 * @category attributes
 * @since 0.1.0
 */
export const QueueWaitAttribute = "task.queue_wait_ms"

/**
 * How a task ended, as counted by `tasksCompleted`: `success`; `failure` (a
 * typed error); `defect` (a throw, a rejection or `Effect.die`); `cancelled`
 * (`Future.cancel`, `Future.interrupt`, `shutdown({ cancelFutures: true })`,
 * or an interrupted scope); `broken` (failed with `BrokenExecutor`).
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import type { Observability } from "effect-futures"
 *
 * const alertOn: Record<Observability.Outcome, boolean> = {
 *   success: false,
 *   failure: false,
 *   defect: true,
 *   cancelled: false,
 *   broken: true
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Outcome = "success" | "failure" | "defect" | "cancelled" | "broken"

/**
 * Every `Outcome`, in the order above.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * // How many tasks ended each way on the executor in context, e.g. [["success", 10], ["failure", 1], ...]
 * const byOutcome = Effect.gen(function* () {
 *   const ours = Observability.attributes(yield* Executor.Executor)
 *   return yield* Effect.forEach(Observability.outcomes, (outcome) =>
 *     Metric.value(
 *       Metric.withAttributes(Observability.tasksCompleted, { ...ours, [Observability.OutcomeAttribute]: outcome })
 *     ).pipe(Effect.map((state) => [outcome, state.count] as const))
 *   )
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export const outcomes: ReadonlyArray<Outcome> = ["success", "failure", "defect", "cancelled", "broken"]

/**
 * The name of the span each task runs in: `effect-futures.task <taskName>`.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import type { Tracer } from "effect"
 * import { Observability } from "effect-futures"
 *
 * declare const spans: ReadonlyArray<Tracer.Span> // collected by your tracer
 * // Observability.taskSpanName("isPrime") is "effect-futures.task isPrime"
 * const isPrimeRuns = spans.filter((span) => span.name === Observability.taskSpanName("isPrime"))
 * ```
 *
 * @category spans
 * @since 0.1.0
 */
export const taskSpanName = (taskName: string): string => `effect-futures.task ${taskName}`

/**
 * The bucket boundaries, in milliseconds, of the queue wait and run time
 * histograms: from 50 µs, for tiny tasks, to a minute.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Observability } from "effect-futures"
 *
 * // A histogram of your own with the executors' buckets, so the two line up on a dashboard
 * const requestTime = Metric.histogram("http_request_ms", { boundaries: Observability.millisBoundaries })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const millisBoundaries: ReadonlyArray<number> = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000
]

/** A histogram of task times in milliseconds, with `millisBoundaries`, so every timing series lines up. */
const millisHistogram = (name: string, description: string): Metric.Histogram<number> =>
  Metric.histogram(name, { description, boundaries: millisBoundaries })

/**
 * Tasks submitted to an executor (each `submit`, each `map` call or chunk)
 * since it started; a counter.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * const progress = Effect.gen(function* () {
 *   const ours = Observability.attributes(yield* Executor.Executor)
 *   const submitted = yield* Metric.value(Metric.withAttributes(Observability.tasksSubmitted, ours))
 *   const succeeded = yield* Metric.value(
 *     Metric.withAttributes(Observability.tasksCompleted, { ...ours, [Observability.OutcomeAttribute]: "success" })
 *   )
 *   return `${succeeded.count} of ${submitted.count} tasks succeeded`
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const tasksSubmitted: Metric.Counter<number> = Metric.counter("effect_futures_tasks_submitted", {
  description: "Tasks submitted to the executor",
  incremental: true
})

/**
 * Tasks that ended, by `outcome` attribute (an `Outcome`); a counter. Every
 * submitted task ends exactly once, so the five series add up to
 * `tasksSubmitted` once the executor is idle.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * const warnOnDefects = Effect.gen(function* () {
 *   const ours = Observability.attributes(yield* Executor.Executor)
 *   const defects = Metric.withAttributes(Observability.tasksCompleted, {
 *     ...ours,
 *     [Observability.OutcomeAttribute]: "defect"
 *   })
 *   const { count } = yield* Metric.value(defects)
 *   if (count > 0) yield* Effect.logWarning(`${count} tasks died on ${ours[Observability.ExecutorNameAttribute]}`)
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const tasksCompleted: Metric.Counter<number> = Metric.counter("effect_futures_tasks_completed", {
  description: "Tasks that ended, by outcome",
  incremental: true
})

/**
 * Tasks waiting in the executor's queue (not yet started, or on a worker pool
 * not yet sent to a worker); a gauge.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric, Schedule } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * // Logs the backlog of the executor in context every second
 * const watchQueue = Effect.gen(function* () {
 *   const depth = Metric.withAttributes(Observability.queueDepth, Observability.attributes(yield* Executor.Executor))
 *   yield* Metric.value(depth).pipe(
 *     Effect.flatMap((state) => Effect.log(`queued: ${state.value}`)),
 *     Effect.repeat(Schedule.spaced("1 second"))
 *   )
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const queueDepth: Metric.Gauge<number> = Metric.gauge("effect_futures_queue_depth", {
  description: "Tasks waiting in the executor's queue"
})

/**
 * Workers running a task (on a worker pool: holding at least one call); a gauge.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * // The share of started workers running a task now, from 0 to 1
 * const utilization = Effect.gen(function* () {
 *   const ours = Observability.attributes(yield* Executor.Executor)
 *   const busy = (yield* Metric.value(Metric.withAttributes(Observability.workersBusy, ours))).value
 *   const idle = (yield* Metric.value(Metric.withAttributes(Observability.workersIdle, ours))).value
 *   return busy + idle === 0 ? 0 : busy / (busy + idle)
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const workersBusy: Metric.Gauge<number> = Metric.gauge("effect_futures_workers_busy", {
  description: "Workers running a task"
})

/**
 * Workers started and waiting for work; a gauge.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * const idleWorkers = Effect.gen(function* () {
 *   const ours = Observability.attributes(yield* Executor.Executor)
 *   return (yield* Metric.value(Metric.withAttributes(Observability.workersIdle, ours))).value
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const workersIdle: Metric.Gauge<number> = Metric.gauge("effect_futures_workers_idle", {
  description: "Workers waiting for work"
})

/**
 * How long tasks waited in the queue before they started, in milliseconds; a
 * histogram with `millisBoundaries`. A task a worker takes at once waited 0.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * const meanQueueWaitMs = Effect.gen(function* () {
 *   const ours = Observability.attributes(yield* Executor.Executor)
 *   const { sum, count } = yield* Metric.value(Metric.withAttributes(Observability.taskQueueWait, ours))
 *   return count === 0 ? 0 : sum / count
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const taskQueueWait: Metric.Histogram<number> = millisHistogram(
  "effect_futures_task_queue_wait_ms",
  "Time tasks waited in the executor's queue, in milliseconds"
)

/**
 * How long tasks ran, in milliseconds; a histogram with `millisBoundaries`.
 * On a worker pool, from when the call was sent to a worker until its result
 * came back.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * const runTimes = Effect.gen(function* () {
 *   const ours = Observability.attributes(yield* Executor.Executor)
 *   const { count, min, max, sum } = yield* Metric.value(Metric.withAttributes(Observability.taskRunTime, ours))
 *   return { tasks: count, minMs: min, maxMs: max, meanMs: count === 0 ? 0 : sum / count }
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const taskRunTime: Metric.Histogram<number> = millisHistogram(
  "effect_futures_task_run_ms",
  "Time tasks ran, in milliseconds"
)

/**
 * The metric attributes of one executor's series: its kind and name. Pass
 * them to `Metric.withAttributes` to read that executor's series.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Observability } from "effect-futures"
 *
 * const submitted = Effect.gen(function*() {
 *   const executor = yield* Executor.Executor
 *   const counter = Metric.withAttributes(Observability.tasksSubmitted, Observability.attributes(executor))
 *   return (yield* Metric.value(counter)).count
 * })
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const attributes = (executor: {
  readonly kind: ExecutorKind
  readonly name: string
}): Readonly<Record<string, string>> => ({
  [ExecutorKindAttribute]: executor.kind,
  [ExecutorNameAttribute]: executor.name
})
