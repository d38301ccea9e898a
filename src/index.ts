/**
 * effect-futures: Python's `concurrent.futures` for Effect. Executors are
 * layers, futures wrap fibers, `wait` and `asCompleted` are Effect combinators.
 *
 * @since 0.1.0
 */

/**
 * The errors, also at the root so `catchTag` users can import them directly.
 *
 * @since 0.1.0
 */
export * from "./Errors.ts"
/**
 * The executor service and its accessors. Mirrors Python's `Executor`.
 *
 * @since 0.1.0
 */
export * as Executor from "./Executor.ts"
/**
 * Futures, `wait` and `asCompleted`. Mirrors Python's `Future`, `wait`, `as_completed`.
 *
 * @since 0.1.0
 */
export * as Future from "./Future.ts"
/**
 * Worker threads, one isolate each. Mirrors Python's `InterpreterPoolExecutor`.
 *
 * @since 0.1.0
 */
export * as InterpreterPoolExecutor from "./InterpreterPoolExecutor.ts"
/**
 * The metrics, span names and attributes the executors report through
 * Effect's `Metric` and `Tracer`. Beyond Python.
 *
 * @since 0.1.0
 */
export * as Observability from "./Observability.ts"
/**
 * Child processes. Mirrors Python's `ProcessPoolExecutor`.
 *
 * @since 0.1.0
 */
export * as ProcessPoolExecutor from "./ProcessPoolExecutor.ts"
/**
 * References to exported functions that workers can import and call.
 *
 * @since 0.1.0
 */
export * as Task from "./Task.ts"

/**
 * Fibers on the main thread, bounded. Mirrors Python's `ThreadPoolExecutor`.
 *
 * @since 0.1.0
 */
export * as ThreadPoolExecutor from "./ThreadPoolExecutor.ts"
