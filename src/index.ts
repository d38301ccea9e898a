/**
 * effect-futures: Python's `concurrent.futures` for Effect. Executors are
 * layers, futures wrap fibers, `wait` and `asCompleted` are Effect combinators.
 *
 * @since 0.1.0
 */

/**
 * The errors, also at the root so `catchTag` users can import them directly.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BrokenExecutor, Future } from "effect-futures"
 *
 * declare const future: Future.Future<number, BrokenExecutor>
 * const value = Future.result(future).pipe(
 *   Effect.catchTag("BrokenExecutor", (e) => Effect.succeed(-1).pipe(Effect.tap(Effect.logWarning(e.reason))))
 * )
 * ```
 *
 * @since 0.1.0
 */
export * from "./Errors.ts"
/**
 * The executor service and its accessors. Mirrors Python's `Executor`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor, Future } from "effect-futures"
 *
 * // Written against the service: runs on whichever pool the caller provides.
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit((a: number, b: number) => a + b, 1, 2)
 *   const squares = yield* Executor.map((n: number) => n * n, [1, 2, 3]).pipe(Stream.runCollect)
 *   return [yield* Future.result(future), squares]
 * })
 * ```
 *
 * @since 0.1.0
 */
export * as Executor from "./Executor.ts"
/**
 * Futures, `wait` and `asCompleted`. Mirrors Python's `Future`, `wait`, `as_completed`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const futures = yield* Effect.forEach([3, 1, 2], (s) => Executor.submit(Effect.sleep(`${s} seconds`)))
 *   const { done, notDone } = yield* Future.wait(futures, { returnWhen: Future.FIRST_COMPLETED })
 *   return [done.size, notDone.size] // [1, 2]
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @since 0.1.0
 */
export * as Future from "./Future.ts"
/**
 * Worker threads, one isolate each. Mirrors Python's `InterpreterPoolExecutor`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, InterpreterPoolExecutor } from "effect-futures"
 * import { isPrime } from "./primes.ts" // export const isPrime = Task.make(import.meta.url, "isPrime", ...)
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(isPrime, 112272535095293)
 *   return yield* Future.result(future)
 * }).pipe(Effect.provide(InterpreterPoolExecutor.layer({ maxWorkers: 2 })))
 * ```
 *
 * @since 0.1.0
 */
export * as InterpreterPoolExecutor from "./InterpreterPoolExecutor.ts"
/**
 * The metrics, span names and attributes the executors report through
 * Effect's `Metric` and `Tracer`. Beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Executor, Future, Observability, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const futures = yield* Effect.forEach([1, 2, 3], (n) => Executor.submit((x: number) => x * 2, n))
 *   yield* Effect.forEach(futures, Future.result)
 *   // This executor's series, read before its scope closes
 *   const all = yield* Metric.snapshot
 *   const ours = all.filter((s) => s.attributes?.[Observability.ExecutorNameAttribute] === "doubler")
 *   for (const s of ours) yield* Effect.log(s.id, s.attributes, s.state)
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer({ name: "doubler" })))
 * ```
 *
 * @since 0.1.0
 */
export * as Observability from "./Observability.ts"
/**
 * Child processes. Mirrors Python's `ProcessPoolExecutor`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor, ProcessPoolExecutor } from "effect-futures"
 * import { isPrime } from "./primes.ts" // export const isPrime = Task.make(import.meta.url, "isPrime", ...)
 *
 * const program = Executor.map(isPrime, [112272535095293, 115280095190773]).pipe(
 *   Stream.runCollect,
 *   Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 2 }))
 * )
 * ```
 *
 * @since 0.1.0
 */
export * as ProcessPoolExecutor from "./ProcessPoolExecutor.ts"
/**
 * References to exported functions that workers can import and call. Also the
 * subpath `effect-futures/Task`, for task modules: it loads no executor and
 * no Effect, so every worker starts sooner.
 *
 * @example
 * ```ts
 * import * as Task from "effect-futures/Task"
 *
 * // primes.ts: a module with no top-level side effects, since every worker imports it
 * export const isPrime = Task.make(import.meta.url, "isPrime", (n: number) => {
 *   for (let i = 2; i * i <= n; i++) if (n % i === 0) return false
 *   return n > 1
 * })
 * ```
 *
 * @since 0.1.0
 */
export * as Task from "./Task.ts"

/**
 * Fibers on the main thread, bounded. Mirrors Python's `ThreadPoolExecutor`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(() => fetch("https://example.com").then((r) => r.text()))
 *   return yield* Future.result(future, { timeout: "10 seconds" })
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 8 })))
 * ```
 *
 * @since 0.1.0
 */
export * as ThreadPoolExecutor from "./ThreadPoolExecutor.ts"
