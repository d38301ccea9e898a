/**
 * An executor that runs Tasks on `node:worker_threads`, one isolate per
 * worker: true parallelism in one process, for CPU-bound work.
 *
 * Mirrors Python's `concurrent.futures.InterpreterPoolExecutor`.
 *
 * @since 0.1.0
 */

import { availableParallelism } from "node:os"
import * as WorkerThreads from "node:worker_threads"
import type * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Executor from "./Executor.ts"
import { spawnThread } from "./internal/platform.ts"
import * as internal from "./internal/workerPool/executor.ts"
import type { Task } from "./Task.ts"

/**
 * Options of `make` and `layer`, Python's renamed to camelCase.
 *
 * @example
 * ```ts
 * import { InterpreterPoolExecutor } from "effect-futures"
 *
 * const options: InterpreterPoolExecutor.Options = {
 *   maxWorkers: 4,
 *   maxTasksPerChild: 1000,
 *   shared: { counts: new SharedArrayBuffer(4) },
 *   resourceLimits: { maxOldGenerationSizeMb: 256 },
 *   interruptGrace: "2 seconds",
 *   onWorkerDeath: "replace"
 * }
 * const layer = InterpreterPoolExecutor.layer(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Options extends Executor.PoolOptions {
  /** Worker threads at most; default `min(32, cpus + 4)`, as Python's. */
  readonly maxWorkers?: number | undefined
  /** A Task run once in each worker before its first task; a failure breaks the pool. */
  readonly initializer?: Task<any, unknown, unknown> | undefined
  /** Arguments for the initializer. */
  readonly initargs?: ReadonlyArray<unknown> | undefined
  /** Replace a worker after it has run this many tasks. */
  readonly maxTasksPerChild?: number | undefined
  /** Values every worker sees through `shared()`, e.g. a `SharedArrayBuffer` (cloned, so shared memory stays shared). */
  readonly shared?: Readonly<Record<string, unknown>> | undefined
  /** V8 heap limits for each worker. */
  readonly resourceLimits?: WorkerThreads.ResourceLimits | undefined
  /**
   * How long an interrupted task may take to stop before its worker is replaced (default 1 second):
   * after `Future.interrupt`, and when the executor's scope closes by interruption (then the worker is
   * killed).
   */
  readonly interruptGrace?: Duration.Input | undefined
  /**
   * What a worker's unexpected death (a signal such as SIGKILL, `process.exit` in a task, an uncaught
   * error, running out of memory) does. `"break"` (default, Python's): the pool breaks and every running
   * and pending future fails with `BrokenExecutor`. `"replace"` (beyond Python): only the call the worker
   * was running fails, with `WorkerDied`; the calls queued behind it in that worker run on another; a
   * fresh worker thread takes its place on demand. An initializer that fails still breaks the pool.
   */
  readonly onWorkerDeath?: "break" | "replace" | undefined
  /**
   * How long a worker thread asked to stop (shutdown, `maxTasksPerChild`, idle shrink, memory retirement) may
   * take to exit before it is terminated (default `"5 seconds"`), so shutting down always returns: a
   * thread blocked in a system call, which Node cannot terminate, is abandoned a second later (see the
   * faults guide). Beyond Python.
   */
  readonly terminateGrace?: Duration.Input | undefined
  /**
   * Worker threads idle this long exit, down to `minWorkers`, and start again on demand
   * (default: never). Beyond Python.
   */
  readonly idleTimeout?: Duration.Input | undefined
  /**
   * Worker threads started with the pool, at once, and kept through idle shrink; one that exits
   * after having answered calls is replaced (default 0; at most `maxWorkers`). Beyond Python.
   */
  readonly minWorkers?: number | undefined
  /**
   * Retire a worker whose V8 heap in use exceeds this many MiB, measured after its calls: it takes no
   * more calls, stops once those it holds are answered, and a fresh one replaces it on demand. Where
   * `resourceLimits.maxOldGenerationSizeMb` is not given, it is set to twice this (at least this + 256)
   * as a hard backstop: a single call that goes past it kills its worker (`WorkerDied` with
   * `resourceLimit: "maxOldGenerationSizeMb"` under `onWorkerDeath: "replace"`). Beyond Python.
   */
  readonly maxMemoryPerWorker?: number | undefined
  /**
   * The executor's name in metric attributes and task spans; default `InterpreterPoolExecutor-<k>`.
   * Beyond Python (see `Observability`).
   */
  readonly name?: string | undefined
  /**
   * The file each worker thread runs: the package's worker entry, `effect-futures/worker` (default: the
   * one beside the library's files; in a bundled program, `worker.js` beside the bundle). Give it
   * where a bundler puts the entry elsewhere: `new URL("./worker.js", import.meta.url)`. See
   * docs/bundling.md. Beyond Python.
   */
  readonly workerEntry?: string | URL | undefined
}

/** The user's limits, with `maxMemoryPerWorker`'s hard backstop where no old-generation limit is given. */
const resourceLimits = (options: Options): WorkerThreads.ResourceLimits | undefined => {
  const soft = options.maxMemoryPerWorker
  if (typeof soft !== "number" || !(soft > 0) || options.resourceLimits?.maxOldGenerationSizeMb !== undefined) {
    return options.resourceLimits
  }
  return { ...options.resourceLimits, maxOldGenerationSizeMb: Math.max(2 * soft, soft + 256) }
}

/**
 * An interpreter pool, for programs holding several executors.
 *
 * Mirrors an instance of Python's `InterpreterPoolExecutor`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { InterpreterPoolExecutor } from "effect-futures"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const pool: InterpreterPoolExecutor.InterpreterPoolExecutor = yield* InterpreterPoolExecutor.make()
 *     return pool.kind // "InterpreterPool"
 *   })
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface InterpreterPoolExecutor extends Executor.Service {}

/**
 * Creates an interpreter pool that lives as long as the current `Scope`;
 * closing the scope is Python's `with` exit: `shutdown({ wait: true })`, and
 * if the scope was interrupted, running tasks are stopped too.
 *
 * Mirrors Python's `InterpreterPoolExecutor(max_workers, initializer, initargs)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future, InterpreterPoolExecutor } from "effect-futures"
 * import { isPrime } from "./primes.ts"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const pool = yield* InterpreterPoolExecutor.make({ maxWorkers: 2 })
 *     const future = yield* pool.submit(isPrime, 112272535095293)
 *     return yield* Future.result(future)
 *   })
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<InterpreterPoolExecutor, Cause.IllegalArgumentError, Scope.Scope> =>
  internal.make(
    "InterpreterPool",
    options,
    Math.min(32, availableParallelism() + 4),
    spawnThread({ workerData: { shared: options.shared ?? {} }, resourceLimits: resourceLimits(options) })
  )

/**
 * A layer providing `Executor.Executor` backed by worker threads.
 *
 * Mirrors Python's `with InterpreterPoolExecutor(...) as executor:`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, InterpreterPoolExecutor } from "effect-futures"
 * import { isPrime } from "./tasks.ts" // export const isPrime = Task.make(import.meta.url, "isPrime", ...)
 *
 * const program = Effect.gen(function*() {
 *   const future = yield* Executor.submit(isPrime, 112272535095293)
 *   return yield* Future.result(future)
 * }).pipe(Effect.provide(InterpreterPoolExecutor.layer({ maxWorkers: 2 })))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<Executor.Executor, Cause.IllegalArgumentError> =>
  Layer.effect(Executor.Executor, make(options))

/**
 * Inside an interpreter-pool worker, the pool's `shared` values; an empty
 * object elsewhere.
 *
 * Stands where Python's interpreters share channels and memory views.
 *
 * @example
 * ```ts
 * import { InterpreterPoolExecutor, Task } from "effect-futures"
 *
 * // In a task module; the pool was made with { shared: { counts: new SharedArrayBuffer(4) } }.
 * export const bump = Task.make(import.meta.url, "bump", () => {
 *   const counts = new Int32Array(InterpreterPoolExecutor.shared<{ counts: SharedArrayBuffer }>().counts)
 *   return Atomics.add(counts, 0, 1) + 1
 * })
 * ```
 *
 * @category worker side
 * @since 0.1.0
 */
export const shared = <A extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>>(): A =>
  ((WorkerThreads.workerData as { shared?: A } | null)?.shared ?? {}) as A
