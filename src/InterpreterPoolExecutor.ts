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
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { BrokenExecutor } from "./Errors.ts"
import * as Executor from "./Executor.ts"
import { spawnThread } from "./internal/platform.ts"
import * as internal from "./internal/workerPool/executor.ts"

/**
 * Options of `make` and `layer`: those both worker pools take
 * (`Executor.WorkerPoolOptions`, Python's renamed to camelCase), plus the
 * worker threads' own settings.
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
export interface Options extends Executor.WorkerPoolOptions {
  /** Values every worker sees through `shared()`, e.g. a `SharedArrayBuffer` (cloned, so shared memory stays shared). */
  readonly shared?: Readonly<Record<string, unknown>> | undefined
  /** V8 heap limits for each worker (see `maxMemoryPerWorker` for its default old-generation limit). */
  readonly resourceLimits?: WorkerThreads.ResourceLimits | undefined
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
): Effect.Effect<InterpreterPoolExecutor, Cause.IllegalArgumentError | BrokenExecutor, Scope.Scope> => {
  const spawn = spawnThread({ workerData: { shared: options.shared ?? {} }, resourceLimits: resourceLimits(options) })
  return internal.make("InterpreterPool", options, Math.min(32, availableParallelism() + 4), spawn)
}

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
export const layer = (
  options: Options = {}
): Layer.Layer<Executor.Executor, Cause.IllegalArgumentError | BrokenExecutor> =>
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
