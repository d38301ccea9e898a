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
 * Fibers on the main thread, bounded. Mirrors Python's `ThreadPoolExecutor`.
 *
 * @since 0.1.0
 */
export * as ThreadPoolExecutor from "./ThreadPoolExecutor.ts"
