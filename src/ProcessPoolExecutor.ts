/**
 * An executor that runs Tasks in child processes: true parallelism with
 * separate memory, for CPU-bound work and code that must be isolated.
 *
 * Mirrors Python's `concurrent.futures.ProcessPoolExecutor`.
 *
 * @since 0.1.0
 */

import { availableParallelism } from "node:os"
import type * as Cause from "effect/Cause"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { BrokenExecutor } from "./Errors.ts"
import * as Executor from "./Executor.ts"
import { spawnProcess } from "./internal/platform.ts"
import * as internal from "./internal/workerPool/executor.ts"

/**
 * Options of `make` and `layer`: those both worker pools take
 * (`Executor.WorkerPoolOptions`, Python's renamed to camelCase), plus the
 * child processes' own settings.
 *
 * @example
 * ```ts
 * import { ProcessPoolExecutor } from "effect-futures"
 *
 * const options: ProcessPoolExecutor.Options = {
 *   maxWorkers: 4,
 *   maxTasksPerChild: 100,
 *   execArgv: ["--max-old-space-size=256"],
 *   env: { ...process.env, LOG_LEVEL: "warn" },
 *   idleTimeout: "30 seconds",
 *   name: "reports"
 * }
 * const layer = ProcessPoolExecutor.layer(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Options extends Executor.WorkerPoolOptions {
  /** Node options for each child, e.g. `["--max-old-space-size=256"]` (default: the parent's). */
  readonly execArgv?: ReadonlyArray<string> | undefined
  /** The children's environment (default: the parent's). */
  readonly env?: NodeJS.ProcessEnv | undefined
  /** The children's working directory (default: the parent's). */
  readonly cwd?: string | undefined
}

/**
 * A process pool, with Python 3.14's `terminateWorkers` and `killWorkers`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future, ProcessPoolExecutor } from "effect-futures"
 * import { slowTask } from "./tasks.ts"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const pool: ProcessPoolExecutor.ProcessPoolExecutor = yield* ProcessPoolExecutor.make({ maxWorkers: 2 })
 *     const future = yield* pool.submit(slowTask, 10)
 *     yield* pool.terminateWorkers() // SIGTERM to every child; killWorkers() sends SIGKILL
 *     return yield* Future.await(future) // an Exit: BrokenExecutor if the task was running
 *   })
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ProcessPoolExecutor extends Executor.Service {
  /**
   * Shuts down without waiting, cancels pending tasks and sends SIGTERM to
   * every worker; running futures fail with `BrokenExecutor`. Returns once the
   * workers are gone. Mirrors Python's `terminate_workers()`.
   */
  readonly terminateWorkers: () => Effect.Effect<void>
  /** As `terminateWorkers`, with SIGKILL. Mirrors Python's `kill_workers()`. */
  readonly killWorkers: () => Effect.Effect<void>
}

/**
 * Creates a process pool that lives as long as the current `Scope`; closing
 * the scope is Python's `with` exit: `shutdown({ wait: true })`, and if the
 * scope was interrupted, running tasks are stopped too. No child outlives it.
 *
 * Mirrors Python's `ProcessPoolExecutor(max_workers, initializer, initargs, max_tasks_per_child)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future, ProcessPoolExecutor } from "effect-futures"
 * import { isPrime } from "./primes.ts"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const pool = yield* ProcessPoolExecutor.make({ maxWorkers: 2 })
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
): Effect.Effect<ProcessPoolExecutor, Cause.IllegalArgumentError | BrokenExecutor, Scope.Scope> =>
  internal.make(
    "ProcessPool",
    options,
    availableParallelism(),
    spawnProcess({ execArgv: options.execArgv, env: options.env, cwd: options.cwd }),
    (pool) => ({
      terminateWorkers: () => pool.forceShutdown("SIGTERM", "terminateWorkers"),
      killWorkers: () => pool.forceShutdown("SIGKILL", "killWorkers")
    })
  )

/**
 * A layer providing `Executor.Executor` backed by child processes.
 *
 * Mirrors Python's `with ProcessPoolExecutor(...) as executor:`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor, ProcessPoolExecutor } from "effect-futures"
 * import { isPrime } from "./tasks.ts" // export const isPrime = Task.make(import.meta.url, "isPrime", ...)
 *
 * const program = Executor.map(isPrime, [112272535095293, 115280095190773]).pipe(
 *   Stream.runCollect,
 *   Effect.provide(ProcessPoolExecutor.layer())
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Executor.Executor, Cause.IllegalArgumentError | BrokenExecutor> =>
  Layer.effect(Executor.Executor, make(options))
