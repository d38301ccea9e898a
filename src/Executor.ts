/**
 * The service every pool provides: `submit` a task for a `Future`, `map` a
 * task over iterables, `shutdown`. Code written against `Executor.Executor`
 * runs on any pool.
 *
 * Mirrors Python's `concurrent.futures.Executor`.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type {
  BrokenExecutor,
  ExecutorKind,
  ExecutorShutdownError,
  QueueFull,
  SerializationError,
  WorkerDied
} from "./Errors.ts"
import type { Future } from "./Future.ts"
import type { Task } from "./Task.ts"

/**
 * What a task's function returns once it has run: the value, or what the
 * Promise or Effect it returned gives.
 *
 * Beyond Python, whose futures are untyped.
 *
 * @example
 * ```ts
 * import type { Effect } from "effect"
 * import type { Executor } from "effect-futures"
 *
 * type A = Executor.Success<Promise<number>> // number
 * type B = Executor.Success<Effect.Effect<string, Error>> // string
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Success<T> =
  T extends Effect.Effect<infer A, infer _E, infer _R> ? A : T extends PromiseLike<infer A> ? A : T

/**
 * The typed failure of a task's function: the error channel of the Effect it
 * returns, `never` otherwise (thrown errors and rejections are defects).
 *
 * Beyond Python, whose futures are untyped.
 *
 * @example
 * ```ts
 * import type { Effect } from "effect"
 * import type { Executor } from "effect-futures"
 *
 * type E = Executor.Failure<Effect.Effect<string, RangeError>> // RangeError
 * type None = Executor.Failure<Promise<string>> // never: a rejection is a defect
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Failure<T> = T extends Effect.Effect<infer _A, infer E, infer _R> ? E : never

/**
 * The services a task's function needs: those of the Effect it returns.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import type { Effect } from "effect"
 * import type { Executor } from "effect-futures"
 *
 * type R = Executor.Services<Effect.Effect<string, never, "Db">> // "Db"
 * type None = Executor.Services<Promise<string>> // never
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Services<T> = T extends Effect.Effect<infer _A, infer _E, infer R> ? R : never

/**
 * One iterable per argument of the task's function.
 *
 * Mirrors the `*iterables` of Python's `Executor.map(fn, *iterables)`.
 *
 * @example
 * ```ts
 * import type { Executor } from "effect-futures"
 *
 * const inputs: Executor.Iterables<[name: string, size: number]> = [["a", "b"], [1, 2]]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Iterables<Args extends ReadonlyArray<unknown>> = { readonly [K in keyof Args]: Iterable<Args[K]> }

/**
 * Options of `shutdown`.
 *
 * Mirrors the `wait` and `cancel_futures` parameters of Python's `Executor.shutdown`.
 *
 * @example
 * ```ts
 * import { Executor } from "effect-futures"
 *
 * const options: Executor.ShutdownOptions = { wait: false, cancelFutures: true }
 * const stop = Executor.shutdown(options) // Python's shutdown(wait=False, cancel_futures=True)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ShutdownOptions {
  /** Wait for running and queued tasks to finish (default `true`). */
  readonly wait?: boolean | undefined
  /** Cancel the tasks that have not started (default `false`). */
  readonly cancelFutures?: boolean | undefined
}

/**
 * Options of `map`.
 *
 * Mirrors the `timeout`, `chunksize` and `buffersize` (Python 3.14) parameters
 * of Python's `Executor.map`.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Executor } from "effect-futures"
 * import { isPrime } from "./primes.ts"
 *
 * const options: Executor.MapOptions = { timeout: "1 minute", chunksize: 16, buffersize: 64 }
 * const primes = Executor.map(isPrime, [2, 3, 4, 5], options).pipe(Stream.runCollect)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface MapOptions {
  /** The stream fails with `TimeoutError` if the next result is not ready this long after the stream started. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Calls sent to a worker in one message (worker pools; accepted and ignored by the thread pool).
   * Given without `buffersize`, every call is submitted when the stream starts, as in Python;
   * `1` is Python's default exactly. Without it and `buffersize`, `map` sizes chunks itself.
   */
  readonly chunksize?: number | undefined
  /**
   * At most this many calls (or chunks) submitted ahead of the consumer, so an endless iterable
   * works; alone, it means `chunksize: 1`. Without it and `chunksize`, `map` keeps its own window.
   */
  readonly buffersize?: number | undefined
}

/**
 * Options of `submitWith`: how one task is run. Each defaults to Python's
 * behaviour.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Executor } from "effect-futures"
 *
 * const options: Executor.SubmitOptions = { priority: 1, timeout: "5 seconds", retries: 2 }
 * const submit = Executor.submitWith(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface SubmitOptions {
  /** Among pending tasks, higher runs first; equal priorities in submit order (default 0). */
  readonly priority?: number | undefined
  /**
   * Counted from when the task starts running (each attempt anew): on expiry the
   * task is interrupted as by `Future.interrupt` and the future fails with `TimeoutError`.
   */
  readonly timeout?: Duration.Input | undefined
  /**
   * Runs a failed task again: a number of retries, or a `Schedule` fed with each
   * failure. Failures and defects are retried, interruptions are not; the
   * future stays one future, RUNNING between attempts, and ends with the last attempt.
   */
  readonly retries?: number | Schedule.Schedule<unknown, any> | undefined
  /** Aborting it cancels the task if pending, or interrupts it if running, as `Future.interrupt`. */
  readonly signal?: AbortSignal | undefined
}

/**
 * Options every pool takes beyond Python's own: a bounded queue (`maxQueue`,
 * `whenFull`) and `failOnUnobserved`.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor } from "effect-futures"
 *
 * const layer = ThreadPoolExecutor.layer({ maxWorkers: 8, maxQueue: 100, whenFull: "suspend", failOnUnobserved: true })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface PoolOptions {
  /**
   * At most this many tasks wait for a worker (default: no limit, as Python).
   * A task a free worker can take at once never waits, so `0` admits exactly those.
   * When full, a submit waits for room or fails with `QueueFull`, as `whenFull` says.
   */
  readonly maxQueue?: number | undefined
  /** With `maxQueue`: `"suspend"` (default) makes the submitting fiber wait; `"reject"` fails with `QueueFull`. */
  readonly whenFull?: "suspend" | "reject" | undefined
  /**
   * A future that failed and was never looked at (no `result`, `exception`,
   * `await`, done callback or stream) is logged when the scope closes; with this
   * option it becomes the scope's defect, `UnobservedFailures`.
   */
  readonly failOnUnobserved?: boolean | undefined
}

/**
 * Options both worker pools take, on top of `PoolOptions`. A worker here is
 * a worker thread (`InterpreterPoolExecutor`) or a child process
 * (`ProcessPoolExecutor`); each pool's `Options` adds its own settings, such
 * as `resourceLimits` for threads and `execArgv` for processes.
 *
 * Mirrors the parameters Python's two pools share (`max_workers`,
 * `initializer`, `initargs`, and `max_tasks_per_child` of
 * `ProcessPoolExecutor`); the fields marked so are beyond Python.
 *
 * @example
 * ```ts
 * import { Executor, InterpreterPoolExecutor, ProcessPoolExecutor } from "effect-futures"
 *
 * // The same settings for either pool, then each pool's own
 * const common: Executor.WorkerPoolOptions = { maxWorkers: 4, maxTasksPerChild: 100, idleTimeout: "30 seconds" }
 * const threads = InterpreterPoolExecutor.layer({ ...common, resourceLimits: { maxOldGenerationSizeMb: 256 } })
 * const processes = ProcessPoolExecutor.layer({ ...common, execArgv: ["--max-old-space-size=256"] })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface WorkerPoolOptions extends PoolOptions {
  /**
   * Workers at most; default as Python's: `min(32, cpus + 4)` threads for `InterpreterPoolExecutor`,
   * one process per CPU for `ProcessPoolExecutor`.
   */
  readonly maxWorkers?: number | undefined
  /** A Task run once in each worker before its first task; a failure breaks the pool. */
  readonly initializer?: Task<any, unknown, unknown> | undefined
  /** Arguments for the initializer. */
  readonly initargs?: ReadonlyArray<unknown> | undefined
  /**
   * Replace a worker after it has run this many tasks (Python's on `ProcessPoolExecutor`, beyond
   * Python on `InterpreterPoolExecutor`).
   */
  readonly maxTasksPerChild?: number | undefined
  /**
   * How long an interrupted task may take to stop before its worker is replaced (default 1 second):
   * after `Future.interrupt`, and when the executor's scope closes by interruption (then the worker is
   * killed). Beyond Python.
   */
  readonly interruptGrace?: Duration.Input | undefined
  /**
   * What a worker's unexpected death (a signal such as SIGKILL, `process.exit` in a task, an uncaught
   * error, running out of memory) does. `"break"` (default, Python's): the pool breaks and every running
   * and pending future fails with `BrokenExecutor`. `"replace"` (beyond Python): only the call the worker
   * was running fails, with `WorkerDied`; the calls queued behind it in that worker run on another; a
   * fresh worker thread or process takes its place on demand. An initializer that fails still breaks
   * the pool.
   */
  readonly onWorkerDeath?: "break" | "replace" | undefined
  /**
   * How long a worker asked to stop (shutdown, `maxTasksPerChild`, idle shrink, memory retirement) may
   * take to exit before it is stopped by force (default `"5 seconds"`), so shutting down always returns.
   * A child process is killed with SIGKILL, and `ProcessPoolExecutor`'s `terminateWorkers()` follows its
   * SIGTERM with SIGKILL after it too. A worker thread is terminated, and one blocked in a system call,
   * which Node cannot terminate, is abandoned a second later (see the faults guide). Beyond Python.
   */
  readonly terminateGrace?: Duration.Input | undefined
  /**
   * Workers idle this long exit, down to `minWorkers`, and start again on demand (default: never).
   * Beyond Python.
   */
  readonly idleTimeout?: Duration.Input | undefined
  /**
   * Workers started with the pool, at once, and kept through idle shrink; one that exits after having
   * answered calls is replaced (default 0; at most `maxWorkers`). Beyond Python.
   */
  readonly minWorkers?: number | undefined
  /**
   * Start workers when the layer builds, all at once, and wait until each has started and run the
   * initializer: `true` starts `maxWorkers`, a number that many (default `false`: workers start on
   * demand, as in Python). A worker that cannot start (its initializer fails, a bad `execArgv`, a
   * missing entry) fails the layer or `make` with `BrokenExecutor`, instead of the first call; the
   * workers started are stopped. Without `minWorkers` or `idleTimeout`, they stay until shutdown.
   * Beyond Python.
   */
  readonly prestart?: boolean | number | undefined
  /**
   * Retire a worker whose memory exceeds this many MiB, measured after its calls: it takes no more
   * calls, stops once those it holds are answered, and a fresh one replaces it on demand. Beyond Python.
   *
   * A worker thread's measure is its V8 heap in use. Where `resourceLimits.maxOldGenerationSizeMb` is
   * not given, it is set to twice this (at least this + 256) as a hard backstop: a single call that goes
   * past it kills its worker (`WorkerDied` with `resourceLimit: "maxOldGenerationSizeMb"` under
   * `onWorkerDeath: "replace"`). A child process's measure is its resident memory (RSS), and no hard
   * limit is set; for one, give `execArgv: ["--max-old-space-size=..."]`.
   */
  readonly maxMemoryPerWorker?: number | undefined
  /**
   * The executor's name in metric attributes and task spans; default `InterpreterPoolExecutor-<k>` or
   * `ProcessPoolExecutor-<k>`. Beyond Python (see `Observability`).
   */
  readonly name?: string | undefined
  /**
   * The file each worker thread or process runs: the package's worker entry, `effect-futures/worker`
   * (default: the one beside the library's files; in a bundled program, `worker.js` beside the bundle).
   * Give it where a bundler puts the entry elsewhere: `new URL("./worker.js", import.meta.url)`. See
   * docs/bundling.md. Beyond Python.
   */
  readonly workerEntry?: string | URL | undefined
}

/**
 * The errors of `submit`: `QueueFull` only with `maxQueue` and `whenFull: "reject"`.
 *
 * Mirrors what Python's `Executor.submit` raises (`RuntimeError` after
 * shutdown, `BrokenExecutor`); `QueueFull` is beyond Python.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor } from "effect-futures"
 *
 * const submitted = Executor.submit(() => 1).pipe(
 *   Effect.catchTags({
 *     ExecutorShutdownError: () => Effect.die("submitted after shutdown"),
 *     BrokenExecutor: (e) => Effect.die(e),
 *     QueueFull: () => Effect.die("queue full")
 *   })
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type SubmitError = ExecutorShutdownError | BrokenExecutor | QueueFull

/**
 * `submit` with a task's options applied: a timed task may also fail with `TimeoutError`.
 * `Env` is what the returned Effects also need (`Executor` for the accessor).
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Executor } from "effect-futures"
 *
 * declare const executor: Executor.Service
 * const urgent: Executor.SubmitWith = executor.submitWith({ priority: 10 })
 * const future = urgent(() => fetch("https://example.com"))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface SubmitWith<Env = never> {
  <A, E, R>(
    task: Effect.Effect<A, E, R>
  ): Effect.Effect<Future<A, E | BrokenExecutor | Cause.TimeoutError>, SubmitError, R | Env>
  <Args extends ReadonlyArray<unknown>, A, E>(
    task: Task<Args, A, E>,
    ...args: Args
  ): Effect.Effect<
    Future<A, E | BrokenExecutor | SerializationError | WorkerDied | Cause.TimeoutError>,
    SubmitError,
    Env
  >
  <Args extends ReadonlyArray<unknown>, T>(
    task: (...args: Args) => T,
    ...args: Args
  ): Effect.Effect<Future<Success<T>, Failure<T> | BrokenExecutor | Cause.TimeoutError>, SubmitError, Services<T> | Env>
}

/**
 * The errors a `map` stream may fail with besides the task's own: its
 * `timeout`, a broken or shut-down executor, bad options or arguments.
 *
 * Mirrors what iterating Python's `Executor.map` raises: `TimeoutError`,
 * `BrokenExecutor`, `RuntimeError` after shutdown, `ValueError`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor } from "effect-futures"
 *
 * const squares = Executor.map((n: number) => n * n, [1, 2, 3], { timeout: "1 second" }).pipe(
 *   Stream.runCollect,
 *   Effect.catchTag("TimeoutError", () => Effect.succeed([]))
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type MapError = Cause.TimeoutError | BrokenExecutor | ExecutorShutdownError | Cause.IllegalArgumentError

/**
 * The operations of an executor.
 *
 * Mirrors Python's `Executor` methods; `kind`, `name` and `submitWith` are
 * beyond Python.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor } from "effect-futures"
 *
 * // Generic code takes any pool.
 * const squares = (executor: Executor.Service, ns: ReadonlyArray<number>) =>
 *   executor.map((n: number) => n * n, ns).pipe(Stream.runCollect)
 *
 * const program = Effect.flatMap(Executor.Executor, (executor) => squares(executor, [1, 2, 3]))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** Which kind of pool this is. */
  readonly kind: ExecutorKind
  /**
   * The executor's name (its `name` option), as metric attributes and task
   * spans show it. Beyond Python (see `Observability`).
   */
  readonly name: string
  /**
   * Schedules a task and returns its future at once. The task runs with the
   * caller's services. Mirrors Python's `Executor.submit(fn, *args)`.
   */
  readonly submit: {
    <A, E, R>(task: Effect.Effect<A, E, R>): Effect.Effect<Future<A, E | BrokenExecutor>, SubmitError, R>
    <Args extends ReadonlyArray<unknown>, A, E>(
      task: Task<Args, A, E>,
      ...args: Args
    ): Effect.Effect<Future<A, E | BrokenExecutor | SerializationError | WorkerDied>, SubmitError>
    <Args extends ReadonlyArray<unknown>, T>(
      task: (...args: Args) => T,
      ...args: Args
    ): Effect.Effect<Future<Success<T>, Failure<T> | BrokenExecutor>, SubmitError, Services<T>>
  }
  /**
   * `submit` with per-task options: `priority`, `timeout`, `retries`, `signal`.
   * Bad options are a defect carrying `IllegalArgumentError`.
   *
   * Beyond Python.
   */
  readonly submitWith: (options: SubmitOptions) => SubmitWith
  /**
   * Runs the task over the iterables, zipped like Python's `map`, and streams
   * the results in input order. Mirrors Python's `Executor.map`.
   *
   * **Details**
   *
   * A failure ends the stream at its position, after the results before it.
   * With neither `chunksize` nor `buffersize`, `map` picks both: the input is
   * read a window ahead of the consumer (4 units per worker, at least 1024
   * calls on the thread pool), so memory stays flat and an endless iterable
   * works, where Python reads the whole input at once; on a worker pool,
   * chunks start at one call and double while each comes back within 5 ms,
   * up to 1024 calls. `{ chunksize: 1 }` is Python's behaviour exactly.
   */
  readonly map: {
    <Args extends ReadonlyArray<unknown>, A, E>(
      task: Task<Args, A, E>,
      ...iterables: [...Iterables<Args>] | [...Iterables<Args>, MapOptions]
    ): Stream.Stream<A, E | MapError | SerializationError | WorkerDied>
    <Args extends ReadonlyArray<unknown>, T>(
      task: (...args: Args) => T,
      ...iterables: [...Iterables<Args>] | [...Iterables<Args>, MapOptions]
    ): Stream.Stream<Success<T>, Failure<T> | MapError, Services<T>>
  }
  /**
   * Stops accepting tasks; with `wait` (default), returns once running and
   * queued tasks are done. Mirrors Python's `Executor.shutdown`.
   */
  readonly shutdown: (options?: ShutdownOptions) => Effect.Effect<void>
}

/**
 * The executor service tag, provided by `ThreadPoolExecutor.layer`,
 * `InterpreterPoolExecutor.layer` and `ProcessPoolExecutor.layer`.
 *
 * Mirrors Python's `concurrent.futures.Executor`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function*() {
 *   const future = yield* Executor.submit((a: number, b: number) => a + b, 1, 2)
 *   return yield* Future.result(future)
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 4 })))
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class Executor extends Context.Service<Executor, Service>()("effect-futures/Executor") {}

/**
 * Submits a task to the executor in context.
 *
 * Mirrors Python's `Executor.submit(fn, *args)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit((a: number, b: number) => a ** b, 2, 10)
 *   return yield* Future.result(future) // 1024
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const submit: {
  <A, E, R>(task: Effect.Effect<A, E, R>): Effect.Effect<Future<A, E | BrokenExecutor>, SubmitError, R | Executor>
  <Args extends ReadonlyArray<unknown>, A, E>(
    task: Task<Args, A, E>,
    ...args: Args
  ): Effect.Effect<Future<A, E | BrokenExecutor | SerializationError | WorkerDied>, SubmitError, Executor>
  <Args extends ReadonlyArray<unknown>, T>(
    task: (...args: Args) => T,
    ...args: Args
  ): Effect.Effect<Future<Success<T>, Failure<T> | BrokenExecutor>, SubmitError, Services<T> | Executor>
} = (task: any, ...args: Array<any>): Effect.Effect<any, any, any> =>
  Effect.flatMap(Executor, (executor) => executor.submit(task, ...args))

/**
 * Submits a task with per-task options (`priority`, `timeout`, `retries`,
 * `signal`) to the executor in context.
 *
 * Beyond Python: its `submit` takes no such options.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future } from "effect-futures"
 *
 * const fetchOnce = (url: string) => Effect.tryPromise(() => fetch(url).then((r) => r.text()))
 *
 * const program = Effect.gen(function*() {
 *   const future = yield* Executor.submitWith({ timeout: "2 seconds", retries: 3, priority: 1 })(
 *     fetchOnce,
 *     "https://example.com"
 *   )
 *   return yield* Future.result(future)
 * })
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const submitWith =
  (options: SubmitOptions): SubmitWith<Executor> =>
  (task: any, ...args: Array<any>): Effect.Effect<any, any, any> =>
    Effect.flatMap(Executor, (executor) => (executor.submitWith(options) as any)(task, ...args))

/**
 * Maps a task over iterables on the executor in context.
 *
 * Mirrors Python's `Executor.map(fn, *iterables)`.
 *
 * **Details**
 *
 * Results come in input order; a failure ends the stream at its position.
 * Without `chunksize` and `buffersize`, `map` picks both itself: a window of
 * calls (or, on a worker pool, chunks it sizes from how fast they come back)
 * ahead of the consumer, so an endless iterable works without `buffersize`.
 * Give `{ chunksize: 1 }` for Python's own default (every call submitted at once).
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Executor.map((a: number, b: number) => a ** b, [2, 3, 4], [5, 2, 1]).pipe(
 *   Stream.runCollect, // [32, 9, 4], in input order
 *   Effect.provide(ThreadPoolExecutor.layer())
 * )
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const map: {
  <Args extends ReadonlyArray<unknown>, A, E>(
    task: Task<Args, A, E>,
    ...iterables: [...Iterables<Args>] | [...Iterables<Args>, MapOptions]
  ): Stream.Stream<A, E | MapError | SerializationError | WorkerDied, Executor>
  <Args extends ReadonlyArray<unknown>, T>(
    task: (...args: Args) => T,
    ...iterables: [...Iterables<Args>] | [...Iterables<Args>, MapOptions]
  ): Stream.Stream<Success<T>, Failure<T> | MapError, Services<T> | Executor>
} = (task: any, ...iterables: Array<any>): Stream.Stream<any, any, any> =>
  Stream.unwrap(Effect.map(Executor, (executor) => executor.map(task, ...iterables)))

/**
 * Shuts down the executor in context.
 *
 * Mirrors Python's `Executor.shutdown(wait, cancel_futures)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const futures = yield* Effect.forEach([1, 2, 3], (n) =>
 *     Executor.submit(Effect.sleep("1 second").pipe(Effect.as(n)))
 *   )
 *   yield* Executor.shutdown({ cancelFutures: true }) // cancels the queued ones, waits for the running one
 *   return yield* Effect.forEach(futures, Future.state)
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })))
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const shutdown = (options?: ShutdownOptions): Effect.Effect<void, never, Executor> =>
  Effect.flatMap(Executor, (executor) => executor.shutdown(options))
