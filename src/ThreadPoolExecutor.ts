/**
 * An executor that runs tasks as fibers on the main thread, at most
 * `maxWorkers` at once: concurrency, not parallelism, like Python's threads
 * under the GIL. Use it for I/O-bound work.
 *
 * Mirrors Python's `concurrent.futures.ThreadPoolExecutor`.
 *
 * @since 0.1.0
 */

import { availableParallelism } from "node:os"
import type * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Executor from "./Executor.ts"
import { makeService } from "./internal/executor/service.ts"
import { toEffect } from "./internal/executor/task.ts"
import { ExecutorObserver } from "./internal/observe.ts"
import { Admission } from "./internal/policy/admission.ts"
import {
  badOption,
  checkMaxWorkers,
  checkName,
  checkPoolOptions,
  namingOptionErrors
} from "./internal/policy/options.ts"
import { ThreadPool } from "./internal/threadPool.ts"
import { isTask, type Task } from "./Task.ts"

/**
 * Options of `make` and `layer`, Python's renamed to camelCase.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ThreadPoolExecutor } from "effect-futures"
 *
 * const options: ThreadPoolExecutor.Options = {
 *   maxWorkers: 16,
 *   name: "http",
 *   initializer: Effect.log("worker starting")
 * }
 * const layer = ThreadPoolExecutor.layer(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Options<R = never> extends Executor.PoolOptions {
  /** Tasks running at once; default `min(32, cpus + 4)`. */
  readonly maxWorkers?: number | undefined
  /** Names worker fibers `<prefix>_<n>` in logs and spans; default the executor's `name`. */
  readonly threadNamePrefix?: string | undefined
  /**
   * The executor's name in metric attributes and task spans; default `ThreadPoolExecutor-<k>`.
   * Beyond Python (see `Observability`).
   */
  readonly name?: string | undefined
  /**
   * Runs once in each worker before its first task; a failure breaks the pool. An Effect, a
   * function, or a `Task` (called in-process), so the worker pools' initializer works here too.
   */
  readonly initializer?:
    | Effect.Effect<unknown, unknown, R>
    | ((...args: Array<any>) => unknown)
    | Task<any, unknown, unknown>
    | undefined
  /** Arguments for a function or Task `initializer`. */
  readonly initargs?: ReadonlyArray<unknown> | undefined
}

/**
 * The default `maxWorkers`: `min(32, cpus + 4)`, as Python's.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor } from "effect-futures"
 *
 * const layer = ThreadPoolExecutor.layer({ maxWorkers: 2 * ThreadPoolExecutor.defaultMaxWorkers() })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const defaultMaxWorkers = (): number => Math.min(32, availableParallelism() + 4)

let poolCount = 0

/**
 * Creates a thread pool executor that lives as long as the current `Scope`;
 * closing the scope is Python's `with` exit: `shutdown({ wait: true })`, and if
 * the scope was interrupted, running tasks are interrupted too.
 *
 * Mirrors Python's `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer, initargs)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const io = yield* ThreadPoolExecutor.make({ maxWorkers: 16 })
 *     const future = yield* io.submit(() => fetch("https://example.com").then((r) => r.status))
 *     return yield* Future.result(future)
 *   })
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <R = never>(
  options: Options<R> = {}
): Effect.Effect<Executor.Service, Cause.IllegalArgumentError, R | Scope.Scope> =>
  Effect.gen(function* () {
    const maxWorkers = options.maxWorkers ?? defaultMaxWorkers()
    const badMax = checkMaxWorkers(maxWorkers)
    if (badMax) return yield* badMax
    const name = checkName(options.name, () => `ThreadPoolExecutor-${poolCount++}`)
    if (typeof name !== "string") return yield* name
    const prefix = options.threadNamePrefix ?? name
    if (typeof prefix !== "string") return yield* badOption("threadNamePrefix", "a string", prefix)
    const initializer = options.initializer
    if (
      initializer !== undefined &&
      typeof initializer !== "function" &&
      !Effect.isEffect(initializer) &&
      !isTask(initializer)
    ) {
      return yield* badOption("initializer", "an Effect, a function or a Task", initializer)
    }
    const policy = checkPoolOptions(options)
    if (policy instanceof Error) return yield* policy
    const context = (yield* Effect.context<R>()) as Context.Context<never>
    const observer = new ExecutorObserver("ThreadPool", name)
    const pool = new ThreadPool({
      maxWorkers,
      threadNamePrefix: prefix,
      initializer:
        initializer === undefined
          ? undefined
          : Effect.provideContext(toEffect(initializer, options.initargs ?? []), context as Context.Context<unknown>),
      admission:
        policy.maxQueue === undefined ? undefined : new Admission("ThreadPool", policy.maxQueue, policy.whenFull),
      observer,
      context
    })
    return yield* makeService({
      kind: "ThreadPool",
      name,
      pool,
      observer,
      context,
      failOnUnobserved: policy.failOnUnobserved
    })
  }).pipe(namingOptionErrors("ThreadPoolExecutor"))

/**
 * A layer providing `Executor.Executor` backed by a thread pool; the pool
 * shuts down when the layer's scope closes.
 *
 * Mirrors Python's `with ThreadPoolExecutor(...) as executor:`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Executor.map((n: number) => n * n, [1, 2, 3]).pipe(
 *   Stream.runCollect,
 *   Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 2 }))
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <R = never>(
  options: Options<R> = {}
): Layer.Layer<Executor.Executor, Cause.IllegalArgumentError, R> => Layer.effect(Executor.Executor, make(options))
