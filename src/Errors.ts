/**
 * The errors of Python's `concurrent.futures` (`CancelledError`,
 * `InvalidStateError`, `BrokenExecutor`, ...) as tagged, yieldable Schema
 * errors, so they can be caught with `Effect.catchTag` and survive the trip
 * through a worker.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The future was cancelled before it could finish.
 *
 * Mirrors Python's `concurrent.futures.CancelledError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(Effect.sleep("1 minute"))
 *   yield* Future.interrupt(future)
 *   return yield* Future.result(future).pipe(Effect.catchTag("CancelledError", () => Effect.succeed("cancelled")))
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class CancelledError extends Schema.TaggedError<CancelledError>()("CancelledError", {
  message: Schema.String
}) {}

/**
 * An operation was called on a future in a state that does not allow it, such
 * as setting the result of a future that is already done.
 *
 * Mirrors Python's `concurrent.futures.InvalidStateError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number>()
 *   yield* Future.setResult(future, 1)
 *   const error = yield* Effect.flip(Future.setResult(future, 2)) // InvalidStateError
 *   return error.message
 * })
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidStateError extends Schema.TaggedError<InvalidStateError>()("InvalidStateError", {
  message: Schema.String
}) {}

/**
 * A task was submitted to an executor after `shutdown` was called on it.
 *
 * Mirrors Python's `RuntimeError('cannot schedule new futures after shutdown')`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   yield* Executor.shutdown()
 *   return yield* Executor.submit(() => 1).pipe(
 *     // e.message: "cannot schedule new futures after shutdown"
 *     Effect.catchTag("ExecutorShutdownError", (e) => Effect.succeed(e.message))
 *   )
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class ExecutorShutdownError extends Schema.TaggedError<ExecutorShutdownError>()("ExecutorShutdownError", {
  message: Schema.String
}) {}

/**
 * Which kind of executor an error comes from.
 *
 * Beyond Python, which tells the pools apart by class instead
 * (`BrokenThreadPool`, `BrokenInterpreterPool`, `BrokenProcessPool`);
 * `"Cluster"` is a `ClusterExecutor`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ExecutorKind } from "effect-futures"
 *
 * const kind: ExecutorKind = "ProcessPool"
 * Schema.is(ExecutorKind)("ThreadPool") // true
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export const ExecutorKind = Schema.Literals(["ThreadPool", "InterpreterPool", "ProcessPool", "Cluster"])

/**
 * Which kind of executor an error comes from.
 *
 * Beyond Python, which tells the pools apart by class instead
 * (`BrokenThreadPool`, `BrokenInterpreterPool`, `BrokenProcessPool`).
 *
 * @category models
 * @since 0.1.0
 */
export type ExecutorKind = typeof ExecutorKind.Type

/**
 * The executor can no longer run tasks: an initializer failed, or a worker
 * died. Every pending and later submitted future fails with it.
 *
 * Mirrors Python's `BrokenExecutor` and its subclasses `BrokenThreadPool`,
 * `BrokenInterpreterPool` and `BrokenProcessPool`: one `_tag` for all of them,
 * with `kind` saying which pool broke and `reason` saying why.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ProcessPoolExecutor } from "effect-futures"
 * import { risky } from "./tasks.ts" // a Task that may crash its process
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(risky, 1)
 *   return yield* Future.result(future).pipe(
 *     Effect.catchTag("BrokenExecutor", (e) => Effect.succeed(`${e.kind} broke: ${e.reason}`))
 *   )
 * }).pipe(Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 2 })))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class BrokenExecutor extends Schema.TaggedError<BrokenExecutor>()("BrokenExecutor", {
  kind: ExecutorKind,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `${this.kind} executor is broken: ${this.reason}`
  }
}

/**
 * A task failed in a worker with an error that cannot be rebuilt in the
 * parent; its name, message and the worker's stack are kept.
 *
 * Stands where Python shows a `_RemoteTraceback`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ExecutionFailed, Future } from "effect-futures"
 *
 * declare const future: Future.Future<number, ExecutionFailed>
 * const value = Future.result(future).pipe(
 *   Effect.catchTag("ExecutionFailed", (e) => Effect.logError(e.name, e.message, e.remoteStack).pipe(Effect.as(0)))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class ExecutionFailed extends Schema.TaggedError<ExecutionFailed>()("ExecutionFailed", {
  name: Schema.String,
  message: Schema.String,
  remoteStack: Schema.optional(Schema.String)
}) {}

/**
 * A task argument or result cannot cross to or from a worker. Only the future
 * it belongs to fails; the pool stays healthy.
 *
 * Mirrors Python's `pickle.PicklingError` as raised through a pool.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, InterpreterPoolExecutor } from "effect-futures"
 * import { describe } from "./tasks.ts" // export const describe = Task.make(import.meta.url, "describe", ...)
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(describe, () => "a function cannot cross") // submit succeeds
 *   return yield* Future.result(future).pipe(
 *     Effect.catchTag("SerializationError", (e) => Effect.succeed(`${e.direction}: ${e.valueType}`))
 *   )
 * }).pipe(Effect.provide(InterpreterPoolExecutor.layer({ maxWorkers: 1 })))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class SerializationError extends Schema.TaggedError<SerializationError>()("SerializationError", {
  direction: Schema.Literals(["argument", "result"]),
  valueType: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot send the task's ${this.direction} (${this.valueType}) across the worker boundary: ${this.detail}`
  }
}

/**
 * A cluster was asked to run something its runners do not run: a Task that no
 * runner registered, or a function or Effect, which cannot cross machines. A
 * remote caller never chooses what a runner imports: only the Tasks a runner
 * was started with run there. Only that future fails.
 *
 * Beyond Python, whose pools run any picklable function.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Executor, Future } from "effect-futures"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 * import { resize } from "./tasks.ts" // a Task the runners were not started with
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(resize, 640)
 *   return yield* Future.result(future).pipe(
 *     Effect.catchTag("UnknownTask", (e) => Effect.succeed(`not on this cluster: ${e.name} of ${e.module}`))
 *   )
 * }).pipe(
 *   Effect.provide(ClusterExecutor.layer().pipe(Layer.provide(ClusterExecutor.layerSqlite({ filename: "cluster.db" }))))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class UnknownTask extends Schema.TaggedError<UnknownTask>()("UnknownTask", {
  /** The module URL the caller named (empty for a function or an Effect). */
  module: Schema.String,
  /** The export name the caller named. */
  name: Schema.String,
  message: Schema.String
}) {}

/**
 * A submit found the executor's queue full (`maxQueue`) and the executor
 * refuses rather than waits (`whenFull: "reject"`). Nothing was queued; try
 * again later.
 *
 * Beyond Python, whose queues are unbounded.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, ThreadPoolExecutor } from "effect-futures"
 *
 * const submitOrShed = Executor.submit(Effect.sleep("1 second")).pipe(
 *   Effect.asSome,
 *   Effect.catchTag("QueueFull", () => Effect.succeedNone) // the queue is full: shed this one
 * )
 * const program = submitOrShed.pipe(
 *   Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1, maxQueue: 10, whenFull: "reject" }))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class QueueFull extends Schema.TaggedError<QueueFull>()("QueueFull", {
  kind: ExecutorKind,
  maxQueue: Schema.Number,
  message: Schema.String
}) {}

/**
 * Futures failed and nobody looked at their failures before the executor's
 * scope closed: the scope's defect when the executor has `failOnUnobserved`
 * (otherwise they are logged). `count` counts them all; `failures` holds the
 * first five, since only those are kept.
 *
 * Beyond Python, which drops such failures silently.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, ThreadPoolExecutor } from "effect-futures"
 *
 * // Nobody looks at the failed future: closing the scope dies with UnobservedFailures.
 * const program = Executor.submit(Effect.fail("lost")).pipe(
 *   Effect.provide(ThreadPoolExecutor.layer({ failOnUnobserved: true }))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class UnobservedFailures extends Schema.TaggedError<UnobservedFailures>()("UnobservedFailures", {
  kind: ExecutorKind,
  count: Schema.Number,
  message: Schema.String,
  failures: Schema.Array(Schema.Unknown)
}) {}

/**
 * The worker running this call died (a signal such as SIGKILL, `process.exit`
 * in a task, an uncaught error, running out of memory), and the pool was made
 * with `onWorkerDeath: "replace"`: only this call fails, the calls queued
 * behind it in that worker run on another, and a fresh worker takes its place.
 * With the default `onWorkerDeath: "break"` a death breaks the pool instead
 * (`BrokenExecutor`), as in Python. On a `ClusterExecutor` (`kind: "Cluster"`),
 * the runner running a call that must not run twice (`onRunnerDeath: "fail"`)
 * stopped before it answered.
 *
 * Beyond Python, which has no such error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ProcessPoolExecutor } from "effect-futures"
 * import { risky } from "./tasks.ts" // a Task that may crash its process
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(risky, 1)
 *   return yield* Future.result(future).pipe(
 *     Effect.catchTag("WorkerDied", (e) => Effect.succeed(`worker ${e.workerId} died: ${e.signal ?? e.exitCode}`))
 *   )
 * }).pipe(Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 2, onWorkerDeath: "replace" })))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class WorkerDied extends Schema.TaggedError<WorkerDied>()("WorkerDied", {
  kind: Schema.Literals(["InterpreterPool", "ProcessPool", "Cluster"]),
  /** The thread id or process id of the worker that died (a cluster: the runner's process id). */
  workerId: Schema.Number,
  /** Its exit code, or `null` when a signal ended it. */
  exitCode: Schema.NullOr(Schema.Number),
  /** The signal that ended it (a child process), or `null`. */
  signal: Schema.NullOr(Schema.String),
  /** The resource limit it hit, where known: `"maxOldGenerationSizeMb"` for a thread out of heap. */
  resourceLimit: Schema.optional(Schema.String),
  message: Schema.String,
  /** The worker's uncaught error, where there was one. */
  cause: Schema.optional(Schema.Defect())
}) {}
