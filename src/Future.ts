/**
 * Futures: the eventual result of a task, with Python's state machine
 * (PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED), and the
 * module functions `wait` and `asCompleted` over many futures.
 *
 * Mirrors Python's `concurrent.futures.Future`, `wait` and `as_completed`.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import type { Pipeable } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type { CancelledError, InvalidStateError } from "./Errors.ts"
import * as core from "./internal/future/state.ts"
import { withTimeout } from "./internal/policy/options.ts"

/**
 * The key under which every future carries its type markers; `isFuture` checks for it.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * const future = Future.makeUnsafe<number>()
 * Future.TypeId in future // true
 * ```
 *
 * @category type IDs
 * @since 0.1.0
 */
export const TypeId: typeof core.TypeId = core.TypeId

/**
 * The type of `TypeId`.
 *
 * @category type IDs
 * @since 0.1.0
 */
export type TypeId = typeof TypeId

/**
 * The eventual result of a task: a success `A`, a typed failure `E`, a defect,
 * or cancellation. A future is a value; every operation on it is an Effect, and
 * `yield* future` inside `Effect.gen` waits for its result.
 *
 * Mirrors Python's `concurrent.futures.Future`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(() => 6 * 7)
 *   const viaResult = yield* Future.result(future)
 *   const viaYield = yield* future // the same: waits for the result
 *   return viaResult === viaYield
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Future<out A, out E = never> extends Pipeable {
  readonly [TypeId]: Future.Variance<A, E>
  [Symbol.iterator](): Effect.EffectIterator<Effect.Effect<A, E | CancelledError>>
}

/**
 * @category models
 * @since 0.1.0
 */
export declare namespace Future {
  /**
   * The variance markers of `Future`: covariant in `A` and `E`, so a future that cannot fail
   * stands wherever one that may fail is expected.
   *
   * Beyond Python.
   *
   * @example
   * ```ts
   * import type { Future } from "effect-futures"
   *
   * declare const cannotFail: Future.Future<number>
   * const mayFail: Future.Future<number, string> = cannotFail // fine: covariant in E
   * ```
   *
   * @category models
   * @since 0.1.0
   */
  export interface Variance<out A, out E> {
    readonly _A: (_: never) => A
    readonly _E: (_: never) => E
  }
}

/**
 * The states of Python's `Future`, as strings.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number>()
 *   const before: Future.State = yield* Future.state(future) // "PENDING"
 *   yield* Future.cancel(future)
 *   const after = yield* Future.state(future) // "CANCELLED"
 *   return [before, after]
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type State = core.State

/**
 * Options for operations that may wait: `timeout` bounds the wait.
 *
 * Mirrors the `timeout` parameter of Python's `Future.result`,
 * `Future.exception` and `as_completed`.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<string>
 * const options: Future.TimeoutOptions = { timeout: "2 seconds" }
 * const page = Future.result(future, options) // fails with Cause.TimeoutError after 2 seconds
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface TimeoutOptions {
  readonly timeout?: Duration.Input | undefined
}

const impl = <A, E>(f: Future<A, E>): core.FutureImpl<A, E> => f as unknown as core.FutureImpl<A, E>

/**
 * Returns `true` if the value is a `Future`.
 *
 * Mirrors Python's `isinstance(x, Future)`.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * Future.isFuture(Future.makeUnsafe<number>()) // true
 * Future.isFuture(Promise.resolve(1)) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isFuture = (u: unknown): u is Future<unknown, unknown> =>
  u instanceof core.FutureImpl || hasProperty(u, TypeId)

/**
 * Creates a pending future synchronously, for executor authors.
 *
 * Mirrors Python's `Future()`, outside an Effect.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * // Bridging a callback API, e.g. in an executor of one's own:
 * const future = Future.makeUnsafe<string>()
 * setTimeout(() => Effect.runSync(Future.setResult(future, "ready")), 100)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeUnsafe = <A, E = never>(): Future<A, E> => new core.FutureImpl<A, E>() as unknown as Future<A, E>

/**
 * Creates a bare pending future, to be driven with `setRunningOrNotifyCancel`,
 * `setResult` and `setException`.
 *
 * Mirrors Python's `Future()`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number, string>()
 *   yield* Future.setRunningOrNotifyCancel(future) // true: PENDING -> RUNNING
 *   yield* Future.setResult(future, 42) // RUNNING -> FINISHED
 *   return yield* Future.result(future) // 42
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <A, E = never>(): Effect.Effect<Future<A, E>> => Effect.sync(() => makeUnsafe<A, E>())

/**
 * The future's current state.
 *
 * Mirrors Python's `Future._state`, as shown by its `repr`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(Effect.sleep("1 second"))
 *   yield* Effect.log(yield* Future.state(future)) // "PENDING" or "RUNNING"
 *   yield* Future.await(future)
 *   return yield* Future.state(future) // "FINISHED"
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const state = <A, E>(self: Future<A, E>): Effect.Effect<State> => Effect.sync(() => impl(self).state)

/**
 * `true` if the future was cancelled.
 *
 * Mirrors Python's `Future.cancelled()`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number>()
 *   yield* Future.cancel(future)
 *   return yield* Future.cancelled(future) // true
 * })
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const cancelled = <A, E>(self: Future<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => {
    const s = impl(self).state
    return s === "CANCELLED" || s === "CANCELLED_AND_NOTIFIED"
  })

/**
 * `true` if the future's task is running now.
 *
 * Mirrors Python's `Future.running()`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number>()
 *   yield* Future.setRunningOrNotifyCancel(future)
 *   return yield* Future.running(future) // true
 * })
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const running = <A, E>(self: Future<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => impl(self).state === "RUNNING")

/**
 * `true` if the future finished or was cancelled.
 *
 * Mirrors Python's `Future.done()`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(Effect.sleep("1 second"))
 *   const now = yield* Future.done(future) // false: still running
 *   yield* Future.await(future)
 *   return [now, yield* Future.done(future)] // [false, true]
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const done = <A, E>(self: Future<A, E>): Effect.Effect<boolean> => Effect.sync(() => core.isDone(impl(self)))

const awaitWithin = <A, E>(
  self: Future<A, E>,
  options: TimeoutOptions | undefined
): Effect.Effect<core.FutureExit<A, E>, Cause.TimeoutError> => {
  const f = impl(self)
  core.observe(f)
  const waiting = core.awaitDone(f)
  return options?.timeout === undefined
    ? waiting
    : withTimeout("timeout", options.timeout, (timeout) =>
        timeout === undefined ? waiting : Effect.timeout(waiting, timeout)
      )
}

const isOptions = (args: IArguments): boolean => isFuture(args[0])

const resultWithin = <A, E>(
  self: Future<A, E>,
  options: TimeoutOptions | undefined
): Effect.Effect<A, E | CancelledError | Cause.TimeoutError> =>
  options?.timeout === undefined ? core.awaitResult(impl(self)) : Effect.flatten(awaitWithin(self, options))

/**
 * Waits for the future's result. Fails with the task's typed error, with
 * `CancelledError` if it was cancelled, or with `TimeoutError` when `timeout`
 * passes first; a defect stays a defect, cause and stack kept.
 *
 * Mirrors Python's `Future.result(timeout)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(Effect.sleep("1 second").pipe(Effect.as(42)))
 *   const value = yield* Future.result(future, { timeout: "5 seconds" }) // 42
 *   const again = yield* future.pipe(Future.result({ timeout: "5 seconds" })) // the pipeable form
 *   return value + again
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const result: {
  (options: TimeoutOptions): <A, E>(self: Future<A, E>) => Effect.Effect<A, E | CancelledError | Cause.TimeoutError>
  <A, E>(self: Future<A, E>): Effect.Effect<A, E | CancelledError>
  <A, E>(self: Future<A, E>, options: TimeoutOptions): Effect.Effect<A, E | CancelledError | Cause.TimeoutError>
} = ((self: unknown, options?: TimeoutOptions) =>
  // `dual` written out: `result` is the hot path of every submit-then-result loop.
  isFuture(self)
    ? resultWithin(self, options)
    : (future: Future<unknown, unknown>) => resultWithin(future, self as TimeoutOptions)) as never

/**
 * Waits for the future and returns its failure, if any: `Option.some` of the
 * typed error or the defect, `Option.none()` on success. Fails with
 * `CancelledError` or `TimeoutError` as `result` does.
 *
 * Mirrors Python's `Future.exception(timeout)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(Effect.fail("no data"))
 *   return yield* Future.exception(future) // Option.some("no data")
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const exception: {
  (
    options: TimeoutOptions
  ): <A, E>(self: Future<A, E>) => Effect.Effect<Option.Option<E | unknown>, CancelledError | Cause.TimeoutError>
  <A, E>(self: Future<A, E>): Effect.Effect<Option.Option<E | unknown>, CancelledError>
  <A, E>(
    self: Future<A, E>,
    options: TimeoutOptions
  ): Effect.Effect<Option.Option<E | unknown>, CancelledError | Cause.TimeoutError>
} = dual(
  isOptions,
  <A, E>(
    self: Future<A, E>,
    options?: TimeoutOptions
  ): Effect.Effect<Option.Option<E | unknown>, CancelledError | Cause.TimeoutError> =>
    Effect.flatMap(awaitWithin(self, options), (exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(Option.none())
      if (impl(self).state !== "FINISHED") return Effect.failCause(exit.cause as Cause.Cause<CancelledError>)
      return Effect.succeed(Option.some(Cause.squash(exit.cause)))
    })
)

/**
 * Waits for the future and returns how it ended, never failing: the task's
 * `Exit`, or a failure with `CancelledError` if it was cancelled.
 *
 * Beyond Python; like `Fiber.await`.
 *
 * @category getters
 * @since 0.1.0
 */
const _await = <A, E>(self: Future<A, E>): Effect.Effect<Exit.Exit<A, E | CancelledError>> =>
  Effect.suspend(() => {
    const f = impl(self)
    core.observe(f)
    return core.awaitDone(f)
  })

export {
  /**
   * Waits for the future and returns how it ended, never failing: the task's
   * `Exit`, or a failure with `CancelledError` if it was cancelled.
   *
   * Beyond Python; like `Fiber.await`.
   *
   * @example
   * ```ts
   * import { Effect, Exit } from "effect"
   * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
   *
   * const program = Effect.gen(function* () {
   *   const future = yield* Executor.submit(Effect.fail("no data"))
   *   const exit = yield* Future.await(future) // never fails itself
   *   return Exit.isFailure(exit) // true
   * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
   * ```
   *
   * @category getters
   * @since 0.1.0
   */
  _await as await
}

/**
 * Cancels the future if it has not started. Returns `true` if it is cancelled
 * now (it will never run), `false` if it is running or finished. Callbacks run
 * before this returns.
 *
 * Mirrors Python's `Future.cancel()`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const futures = yield* Effect.forEach([1, 2, 3], (n) => Executor.submit(Effect.sleep("1 second").pipe(Effect.as(n))))
 *   // One worker: the first job runs, the other two wait and can still be cancelled.
 *   yield* Effect.yieldNow
 *   return yield* Effect.forEach(futures, Future.cancel) // [false, true, true]
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })))
 * ```
 *
 * @category cancellation
 * @since 0.1.0
 */
export const cancel = <A, E>(self: Future<A, E>): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const f = impl(self)
    if (core.cancelUnsafe(f)) return Effect.as(core.doneCallbacks(f), true)
    return Effect.succeed(core.isCancelled(f))
  })

/**
 * Stops the future's task even if it is running: a pending future is
 * cancelled, a running in-process task's fiber is interrupted, a running worker
 * task gets its `AbortSignal` fired and its worker replaced if it does not
 * stop. Waits until the task has stopped; returns `true` if the future ended
 * cancelled, `false` if it had already finished or cannot be stopped (a bare
 * future driven by hand).
 *
 * Beyond Python, which cannot stop a running task.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(Effect.never)
 *   const stopped = yield* Future.interrupt(future) // true: cancelled, or its fiber interrupted
 *   return [stopped, yield* Future.cancelled(future)] // [true, true]
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category cancellation
 * @since 0.1.0
 */
export const interrupt = <A, E>(self: Future<A, E>): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const f = impl(self)
    if (f.state === "RUNNING" && f.interruptor !== undefined) {
      return Effect.andThen(
        f.interruptor,
        Effect.sync(() => f.state === "CANCELLED_AND_NOTIFIED")
      )
    }
    return cancel(self)
  })

/**
 * Adds a callback to run with the future when it is done: in the order added,
 * at once if it is already done. The callback may return an Effect, which runs
 * with the caller's services; a failing callback is logged and ignored.
 *
 * Mirrors Python's `Future.add_done_callback(fn)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(Effect.sleep("1 second").pipe(Effect.as("report.pdf")))
 *   yield* Future.addDoneCallback(future, (f) => Effect.log(`done: ${f}`))
 *   return yield* Future.result(future) // the callback has run by now
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer()))
 * ```
 *
 * @category callbacks
 * @since 0.1.0
 */
export const addDoneCallback: {
  <A, E, R = never>(
    fn: (future: Future<A, E>) => Effect.Effect<unknown, unknown, R> | void
  ): (self: Future<A, E>) => Effect.Effect<void, never, R>
  <A, E, R = never>(
    self: Future<A, E>,
    fn: (future: Future<A, E>) => Effect.Effect<unknown, unknown, R> | void
  ): Effect.Effect<void, never, R>
} = dual(
  2,
  <A, E, R>(
    self: Future<A, E>,
    fn: (future: Future<A, E>) => Effect.Effect<unknown, unknown, R> | void
  ): Effect.Effect<void, never, R> =>
    Effect.flatMap(Effect.context<R>(), (context) => {
      const callback: core.DoneCallback = (f) =>
        Effect.suspend(() => {
          const out = fn(f as unknown as Future<A, E>)
          return Effect.isEffect(out) ? Effect.provideContext(out, context) : Effect.void
        }).pipe(
          Effect.catchCause((cause) => Effect.logError("exception calling callback for", String(f), cause)),
          Effect.asVoid
        )
      const f = impl(self)
      core.observe(f)
      if (core.isDone(f)) return callback(f)
      core.addCallback(f, callback)
      return Effect.void
    })
)

/**
 * Marks a pending future as running (`true`), or, if it was cancelled, tells
 * `wait`/`asCompleted` so and returns `false`. Fails with `InvalidStateError`
 * in any other state. For executor authors.
 *
 * Mirrors Python's `Future.set_running_or_notify_cancel()`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * // An executor's worker, as CPython's _WorkItem.run: skip a cancelled future, else run it.
 * const runItem = <A, E>(future: Future.Future<A, E>, work: Effect.Effect<A, E>) =>
 *   Effect.gen(function* () {
 *     if (!(yield* Future.setRunningOrNotifyCancel(future))) return // cancelled: now CANCELLED_AND_NOTIFIED
 *     yield* Future.setExit(future, yield* Effect.exit(work))
 *   })
 * ```
 *
 * @category executor authors
 * @since 0.1.0
 */
export const setRunningOrNotifyCancel = <A, E>(self: Future<A, E>): Effect.Effect<boolean, InvalidStateError> =>
  Effect.suspend(() => {
    const out = core.setRunningOrNotifyCancelUnsafe(impl(self))
    return typeof out === "boolean" ? Effect.succeed(out) : Effect.fail(out)
  })

const complete = <A, E>(self: Future<A, E>, exit: Exit.Exit<A, E>): Effect.Effect<void, InvalidStateError> =>
  Effect.suspend(() => {
    const f = impl(self)
    return core.completeUnsafe(f, exit) ? core.doneCallbacks(f) : Effect.fail(core.invalidState(f, "set the result"))
  })

/**
 * Completes the future with a value. Fails with `InvalidStateError` once it is
 * done or cancelled. For executor authors.
 *
 * Mirrors Python's `Future.set_result(result)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number>()
 *   yield* Future.setResult(future, 42)
 *   const error = yield* Effect.flip(Future.setResult(future, 43)) // InvalidStateError: already FINISHED
 *   return [yield* Future.result(future), error._tag] // [42, "InvalidStateError"]
 * })
 * ```
 *
 * @category executor authors
 * @since 0.1.0
 */
export const setResult: {
  <A>(value: A): <E>(self: Future<A, E>) => Effect.Effect<void, InvalidStateError>
  <A, E>(self: Future<A, E>, value: A): Effect.Effect<void, InvalidStateError>
} = dual(2, <A, E>(self: Future<A, E>, value: A) => complete(self, Exit.succeed(value)))

/**
 * Completes the future with a typed failure. Fails with `InvalidStateError`
 * once it is done or cancelled. For executor authors.
 *
 * Mirrors Python's `Future.set_exception(exception)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number, string>()
 *   yield* Future.setException(future, "no data") // a typed failure, not a defect
 *   return yield* Future.exception(future) // Option.some("no data")
 * })
 * ```
 *
 * @category executor authors
 * @since 0.1.0
 */
export const setException: {
  <E>(error: E): <A>(self: Future<A, E>) => Effect.Effect<void, InvalidStateError>
  <A, E>(self: Future<A, E>, error: E): Effect.Effect<void, InvalidStateError>
} = dual(2, <A, E>(self: Future<A, E>, error: E) => complete(self, Exit.fail(error)))

/**
 * Completes the future with an `Exit`: a success, a typed failure or a
 * defect. Fails with `InvalidStateError` once it is done or cancelled. For
 * executor authors.
 *
 * Generalises Python's `set_result`/`set_exception`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Future.make<number, string>()
 *   const work: Effect.Effect<number, string> = Effect.succeed(42)
 *   yield* Future.setExit(future, yield* Effect.exit(work))
 *   return yield* Future.result(future) // 42
 * })
 * ```
 *
 * @category executor authors
 * @since 0.1.0
 */
export const setExit: {
  <A, E>(exit: Exit.Exit<A, E>): (self: Future<A, E>) => Effect.Effect<void, InvalidStateError>
  <A, E>(self: Future<A, E>, exit: Exit.Exit<A, E>): Effect.Effect<void, InvalidStateError>
} = dual(2, complete)

// ----------------------------------------------------------------------------
// wait / asCompleted
// ----------------------------------------------------------------------------

/**
 * Return when any future finishes or is cancelled.
 *
 * Mirrors Python's `concurrent.futures.FIRST_COMPLETED`.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * declare const futures: ReadonlyArray<Future.Future<string>>
 * const firstDone = Future.wait(futures, { returnWhen: Future.FIRST_COMPLETED })
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export const FIRST_COMPLETED = "FIRST_COMPLETED" as const

/**
 * Return when any future fails (not when one is cancelled); if none fails,
 * when all are done.
 *
 * Mirrors Python's `concurrent.futures.FIRST_EXCEPTION`.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * declare const futures: ReadonlyArray<Future.Future<string, Error>>
 * const firstFailure = Future.wait(futures, { returnWhen: Future.FIRST_EXCEPTION })
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION" as const

/**
 * Return when all futures are done.
 *
 * Mirrors Python's `concurrent.futures.ALL_COMPLETED`.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * declare const futures: ReadonlyArray<Future.Future<string>>
 * const allDone = Future.wait(futures, { returnWhen: Future.ALL_COMPLETED }) // the default
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export const ALL_COMPLETED = "ALL_COMPLETED" as const

/**
 * When `wait` returns.
 *
 * Mirrors the values of the `return_when` parameter of Python's `wait`.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * const returnWhen: Future.ReturnWhen = process.env.FAIL_FAST ? Future.FIRST_EXCEPTION : Future.ALL_COMPLETED
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED

/**
 * Options of `wait`.
 *
 * Mirrors the `timeout` and `return_when` parameters of Python's `wait`.
 *
 * @example
 * ```ts
 * import { Future } from "effect-futures"
 *
 * const options: Future.WaitOptions = { timeout: "30 seconds", returnWhen: Future.FIRST_EXCEPTION }
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export interface WaitOptions extends TimeoutOptions {
  readonly returnWhen?: ReturnWhen | undefined
}

/**
 * The partition `wait` returns.
 *
 * Mirrors Python's `DoneAndNotDoneFutures`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const futures: ReadonlyArray<Future.Future<string>>
 *
 * const program = Effect.gen(function* () {
 *   const { done, notDone }: Future.DoneAndNotDone<Future.Future<string>> = yield* Future.wait(futures, {
 *     timeout: "1 second"
 *   })
 *   yield* Effect.log(`${done.size} done, ${notDone.size} not done`)
 * })
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export interface DoneAndNotDone<F> {
  readonly done: ReadonlySet<F>
  readonly notDone: ReadonlySet<F>
}

/**
 * Decides, outcome by outcome, when `wait` may return: one small policy per
 * `returnWhen`, as CPython's `_FirstCompletedWaiter` and `_AllCompletedWaiter`.
 * Returns `true` once the caller should wake.
 */
const waiterPolicy = (returnWhen: ReturnWhen, pending: number): ((outcome: core.Outcome) => boolean) => {
  switch (returnWhen) {
    case "FIRST_COMPLETED":
      return () => true
    case "FIRST_EXCEPTION":
      return (outcome) => outcome === "exception" || --pending === 0
    case "ALL_COMPLETED":
      return () => --pending === 0
  }
}

const returnWhens: ReadonlyArray<ReturnWhen> = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED]

const partition = <F extends Future<any, any>>(fs: ReadonlySet<F>): DoneAndNotDone<F> => {
  const done = new Set<F>()
  const notDone = new Set<F>()
  for (const f of fs) (core.isNotified(impl(f)) ? done : notDone).add(f)
  return { done, notDone }
}

/**
 * Waits for the futures, from any mix of executors, until `returnWhen` holds
 * or `timeout` passes, then returns them split into `done` and `notDone`.
 * Duplicates count once; cancelled futures count as done once their executor
 * has seen them. A timeout returns the partition; it does not fail.
 *
 * Mirrors Python's `concurrent.futures.wait(fs, timeout, return_when)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * declare const download: (url: string) => Effect.Effect<Uint8Array, Error>
 * declare const urls: ReadonlyArray<string>
 *
 * const program = Effect.gen(function* () {
 *   const futures = yield* Effect.forEach(urls, (url) => Executor.submit(download, url))
 *   const { done, notDone } = yield* Future.wait(futures, { returnWhen: Future.FIRST_EXCEPTION })
 *   for (const future of notDone) yield* Future.cancel(future) // a failure: give up on the rest
 *   return done
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 5 })))
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export const wait = <F extends Future<any, any>>(
  fs: Iterable<F>,
  options?: WaitOptions
): Effect.Effect<DoneAndNotDone<F>> =>
  withTimeout("timeout", options?.timeout, (timeout) =>
    Effect.suspend(() => {
      const returnWhen = options?.returnWhen ?? ALL_COMPLETED
      if (!returnWhens.includes(returnWhen)) {
        return Effect.die(
          new Cause.IllegalArgumentError(
            `returnWhen must be one of ${returnWhens.join(", ")}, got ${JSON.stringify(returnWhen)}`
          )
        )
      }
      const unique = new Set(fs)
      const initial = partition(unique)
      if (
        initial.notDone.size === 0 ||
        (returnWhen === FIRST_COMPLETED && initial.done.size > 0) ||
        (returnWhen === FIRST_EXCEPTION && [...initial.done].some((f) => core.outcomeOf(impl(f)) === "exception"))
      ) {
        return Effect.succeed(initial)
      }
      const woken = Deferred.makeUnsafe<void>()
      const policy = waiterPolicy(returnWhen, initial.notDone.size)
      const waiter: core.Waiter = (_, outcome) => {
        if (policy(outcome)) Deferred.doneUnsafe(woken, Exit.void)
      }
      const pending = [...initial.notDone].map(impl)
      for (const f of pending) (f.waiters ??= new Set()).add(waiter)
      const waiting =
        timeout === undefined ? Deferred.await(woken) : Effect.timeoutOption(Deferred.await(woken), timeout)
      return waiting.pipe(
        Effect.ensuring(
          Effect.sync(() => {
            for (const f of pending) f.waiters?.delete(waiter)
          })
        ),
        Effect.andThen(Effect.sync(() => partition(unique)))
      )
    })
  )

/**
 * Streams the futures as they complete (finish or are cancelled): those
 * already done first, each future once however often it is given. With a
 * `timeout`, counted from when the stream starts, the stream fails with
 * `TimeoutError` naming how many futures are unfinished.
 *
 * Mirrors Python's `concurrent.futures.as_completed(fs, timeout)`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor, Future, ThreadPoolExecutor } from "effect-futures"
 *
 * declare const download: (url: string) => Effect.Effect<Uint8Array, Error>
 * declare const urls: ReadonlyArray<string>
 *
 * const program = Effect.gen(function* () {
 *   const futures = yield* Effect.forEach(urls, (url) => Executor.submit(download, url))
 *   yield* Future.asCompleted(futures, { timeout: "1 minute" }).pipe(
 *     Stream.runForEach((future) => Effect.flatMap(Future.result(future), (page) => Effect.log(page.byteLength)))
 *   )
 * }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 5 })))
 * ```
 *
 * @category wait
 * @since 0.1.0
 */
export const asCompleted = <F extends Future<any, any>>(
  fs: Iterable<F>,
  options?: TimeoutOptions
): Stream.Stream<F, Cause.TimeoutError> =>
  Stream.unwrap(
    withTimeout("timeout", options?.timeout, (timeout) =>
      Effect.sync(() => {
        const unique = new Set(fs)
        const { done, notDone } = partition(unique)
        if (notDone.size === 0) {
          for (const f of done) core.observe(impl(f))
          return Stream.fromIterable(done)
        }
        return Stream.callback<F, Cause.TimeoutError>((queue) =>
          Effect.suspend(() => {
            const total = unique.size
            let unfinished = notDone.size
            for (const f of done) {
              core.observe(impl(f))
              Queue.offerUnsafe(queue, f)
            }
            const waiter: core.Waiter = (f) => {
              core.observe(f)
              Queue.offerUnsafe(queue, f as unknown as F)
              if (--unfinished === 0) Queue.endUnsafe(queue)
            }
            const pending = [...notDone].map(impl)
            for (const f of pending) (f.waiters ??= new Set()).add(waiter)
            const release = Effect.addFinalizer(() =>
              Effect.sync(() => {
                for (const f of pending) f.waiters?.delete(waiter)
              })
            )
            if (timeout === undefined) return release
            const expire = Effect.sleep(timeout).pipe(
              Effect.andThen(
                Effect.sync(() =>
                  Queue.failCauseUnsafe(
                    queue,
                    Cause.fail(new Cause.TimeoutError(`${unfinished} (of ${total}) futures unfinished`))
                  )
                )
              )
            )
            return Effect.andThen(release, Effect.forkScoped(expire))
          })
        )
      })
    )
  )

/**
 * The progress the future's task reports with `Task.progress`, as a stream:
 * the latest value reported so far (if any), then each new one, ending when
 * the future is done. Values are not buffered for a reader that comes late:
 * it starts from the latest.
 *
 * Beyond Python, whose futures carry no progress.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Executor, Future } from "effect-futures"
 * import { crunch } from "./tasks.ts"
 *
 * const program = Effect.gen(function*() {
 *   const future = yield* Executor.submit(crunch, [1, 2, 3])
 *   yield* Future.progress<{ done: number; of: number }>(future).pipe(
 *     Stream.runForEach(({ done, of }) => Effect.log(`${done}/${of}`))
 *   )
 *   return yield* Future.result(future)
 * })
 * ```
 *
 * @category progress
 * @since 0.1.0
 */
export const progress = <P = unknown, A = unknown, E = unknown>(self: Future<A, E>): Stream.Stream<P> =>
  Stream.callback<P>((queue) =>
    Effect.suspend(() => {
      const f = impl(self)
      const state = (f.progress ??= { latest: undefined, reported: false, listeners: new Set() })
      if (state.reported) Queue.offerUnsafe(queue, state.latest as P)
      if (core.isDone(f)) {
        Queue.endUnsafe(queue)
        return Effect.void
      }
      const listener = (value: unknown) => {
        Queue.offerUnsafe(queue, value as P)
      }
      const onDone = () => {
        Queue.endUnsafe(queue)
      }
      state.listeners.add(listener)
      core.addResume(f, onDone)
      return Effect.addFinalizer(() =>
        Effect.sync(() => {
          state.listeners.delete(listener)
          core.removeResume(f, onDone)
        })
      )
    })
  )
