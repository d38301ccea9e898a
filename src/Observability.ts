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
 * @category attributes
 * @since 0.1.0
 */
export const ExecutorNameAttribute = "executor.name"

/**
 * The attribute of `tasksCompleted` saying how a task ended (an `Outcome`).
 *
 * Beyond Python.
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
 * @category models
 * @since 0.1.0
 */
export type Outcome = "success" | "failure" | "defect" | "cancelled" | "broken"

/**
 * Every `Outcome`, in the order above.
 *
 * Beyond Python.
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
 * @category metrics
 * @since 0.1.0
 */
export const millisBoundaries: ReadonlyArray<number> = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000
]

/**
 * Tasks submitted to an executor (each `submit`, each `map` call or chunk)
 * since it started; a counter.
 *
 * Beyond Python.
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
 * @category metrics
 * @since 0.1.0
 */
export const taskQueueWait: Metric.Histogram<number> = Metric.histogram("effect_futures_task_queue_wait_ms", {
  description: "Time tasks waited in the executor's queue, in milliseconds",
  boundaries: millisBoundaries
})

/**
 * How long tasks ran, in milliseconds; a histogram with `millisBoundaries`.
 * On a worker pool, from when the call was sent to a worker until its result
 * came back.
 *
 * Beyond Python.
 *
 * @category metrics
 * @since 0.1.0
 */
export const taskRunTime: Metric.Histogram<number> = Metric.histogram("effect_futures_task_run_ms", {
  description: "Time tasks ran, in milliseconds",
  boundaries: millisBoundaries
})

/**
 * The metric attributes of one executor's series: its kind and name. Pass
 * them to `Metric.withAttributes` to read that executor's series.
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
 * Beyond Python.
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
