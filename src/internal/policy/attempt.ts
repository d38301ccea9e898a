/**
 * A task's attempts under its `submitWith` options, for every pool: each attempt bounded by
 * `timeout` (on Effect's Clock), failed attempts run again as `retries` allows, and the
 * caller's `signal` or `Future.interrupt` ending them all.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import type { SubmitOptions } from "../../Executor.ts"
import * as Future from "../../Future.ts"
import * as core from "../future/state.ts"
import { checkSubmitOptions, type TaskPolicy } from "./options.ts"

/** The failure a task gets when its `timeout` passes while it runs. */
const taskTimedOut = (timeout: Duration.Duration): Cause.TimeoutError =>
  new Cause.TimeoutError(
    `the task did not finish within its timeout of ${Duration.format(timeout)}; it was interrupted`
  )

/**
 * One call's attempts under its `submitWith` options, the same rules for every pool: each
 * attempt bounded by `timeout`, which ends it with `TimeoutError`; a failed attempt (a failure
 * or a defect, never an interruption) runs again after the `retries` schedule's delay, until
 * the schedule is done, and the last failure is the call's; once asked to stop
 * (`Future.interrupt`, the `signal`, an interrupted scope) no attempt follows. Timers and
 * delays run on Effect's Clock, so a `TestClock` moves them.
 *
 * The thread pool runs the attempts as one Effect (`run`); a worker pool, whose attempts run in
 * another thread or process, drives them by events (`arm` when one starts, `end` when it
 * ends, `retry` between two).
 */
/** @internal */
export class Attempts {
  readonly timeout: Duration.Duration | undefined
  private readonly retries: Schedule.Schedule<unknown, unknown> | undefined
  /** Asked to stop: however the running attempt ends, the call ends interrupted. */
  private interrupted = false
  private timedOut = false
  private timer: Fiber.Fiber<void> | undefined = undefined
  /** The schedule's stepper, made at the first failure. */
  private step: ((input: unknown) => Effect.Effect<unknown, unknown>) | undefined = undefined
  /** The wait between two attempts. */
  private waiting: Fiber.Fiber<unknown, unknown> | undefined = undefined

  constructor(policy: TaskPolicy) {
    this.timeout = policy.timeout
    this.retries = policy.retries
  }

  /** The attempts as one Effect, for a task that runs in this process. */
  run<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Cause.TimeoutError, R> {
    const timeout = this.timeout
    const attempt: Effect.Effect<A, E | Cause.TimeoutError, R> =
      timeout === undefined
        ? effect
        : Effect.timeoutOrElse(effect, { duration: timeout, orElse: () => Effect.fail(taskTimedOut(timeout)) })
    if (this.retries === undefined) return attempt
    const loop: Effect.Effect<A, E | Cause.TimeoutError, R> = Effect.catchCause(attempt, (cause) =>
      this.mayRetry(cause)
        ? Effect.matchCauseEffect(this.delay(cause), {
            onFailure: () => Effect.failCause(cause),
            onSuccess: () => loop
          })
        : Effect.failCause(cause)
    )
    return loop
  }

  /** An attempt has started: its `timeout`, if any, runs from now on `context`'s Clock; `onTimeout` once it passes. */
  arm(context: Context.Context<never>, onTimeout: () => void): void {
    const timeout = this.timeout
    if (timeout === undefined || this.timer !== undefined) return
    const timer = Effect.runForkWith(context)(Effect.sleep(timeout))
    this.timer = timer
    timer.addObserver((exit) => {
      if (this.timer !== timer || Exit.isFailure(exit)) return
      this.timer = undefined
      this.timedOut = true
      onTimeout()
    })
  }

  /** Asked to stop (`Future.interrupt`, the `signal`, an interrupted scope): no attempt follows this one. */
  stop(): void {
    this.interrupted = true
  }

  /** The attempt was taken back before it started (its worker went): the next one starts afresh. */
  restart(): void {
    this.disarm()
    this.timedOut = false
  }

  /**
   * How the running attempt ended, as the call would end: interrupted once asked to stop, with
   * `TimeoutError` once its timeout passed, else `exit`. `mayRetry` tells whether another follows.
   */
  end(exit: Exit.Exit<unknown, unknown>): Exit.Exit<unknown, unknown> {
    this.disarm()
    if (Exit.isSuccess(exit)) return exit
    if (this.interrupted) return Exit.interrupt()
    return this.timedOut ? Exit.fail(taskTimedOut(this.timeout!)) : exit
  }

  /** Whether a failed attempt is run again: a failure or a defect, while not asked to stop and `retries` is set. */
  mayRetry(cause: Cause.Cause<unknown>): boolean {
    return this.retries !== undefined && !this.interrupted && !Cause.hasInterruptsOnly(cause)
  }

  /**
   * Waits the schedule's delay after `failed`, on `context`'s Clock, then `next(true)` for another
   * attempt, or `next(false)` when the schedule is done (the last failure is the call's).
   */
  retry(context: Context.Context<never>, failed: Cause.Cause<unknown>, next: (again: boolean) => void): void {
    this.timedOut = false
    const fiber = Effect.runForkWith(context)(this.delay(failed))
    this.waiting = fiber
    fiber.addObserver((exit) => {
      if (this.waiting !== fiber) return
      this.waiting = undefined
      next(Exit.isSuccess(exit))
    })
  }

  /** Whether the call is between two attempts, waiting for the schedule's delay. */
  get retrying(): boolean {
    return this.waiting !== undefined
  }

  /** Ends the wait between two attempts, if there is one: no attempt follows, and `retry`'s `next` is not called. */
  stopRetrying(): void {
    const fiber = this.waiting
    if (fiber === undefined) return
    this.waiting = undefined
    fiber.interruptUnsafe()
  }

  private disarm(): void {
    const timer = this.timer
    if (timer === undefined) return
    this.timer = undefined
    timer.interruptUnsafe()
  }

  private delay(cause: Cause.Cause<unknown>): Effect.Effect<unknown, unknown> {
    return Effect.suspend(() => {
      const error = Cause.squash(cause)
      if (this.step !== undefined) return this.step(error)
      return Effect.flatMap(Schedule.toStepWithSleep(this.retries!), (step) => {
        this.step = step as (input: unknown) => Effect.Effect<unknown, unknown>
        return this.step(error)
      })
    })
  }
}

/**
 * Ties a future to the caller's `AbortSignal`: an abort cancels it while
 * pending and interrupts it while running, as `Future.interrupt` does. The
 * listener goes in a done callback, which every end of the future runs; a
 * future that has ended already (a call that ran inside submit, or one
 * refused for an aborted signal) gets none, since its callbacks have run.
 */
const watchSignal = (
  future: core.FutureImpl<unknown, unknown>,
  signal: AbortSignal,
  context: Context.Context<never>
): void => {
  if (core.isDone(future)) return
  const onAbort = () => {
    Effect.runForkWith(context)(Future.interrupt(future as unknown as Future.Future<unknown, unknown>))
  }
  signal.addEventListener("abort", onAbort, { once: true })
  core.addCallback(future, () =>
    Effect.sync(() => {
      signal.removeEventListener("abort", onAbort)
    })
  )
}

/**
 * What a pool's submit gives, after its broken and shutdown checks, for a call
 * whose `signal` is already aborted: `future` cancelled and notified, so it
 * never runs and takes no room in the queue.
 */
/** @internal */
export const abortedBeforeQueued = <F extends core.FutureImpl<unknown, unknown>>(future: F): F => {
  core.cancelUnsafe(future)
  core.setRunningOrNotifyCancelUnsafe(future)
  return future
}

/**
 * `submitWith` over a pool's submit: checks the options once (a mistake is a
 * defect carrying `IllegalArgumentError`), then submits under them and ties
 * the future to the `signal`. The pool's submit refuses a call whose signal is
 * already aborted (`abortedBeforeQueued`), after its own checks.
 */
/** @internal */
export const makeSubmitWith =
  (submit: (task: unknown, args: Array<unknown>, policy: TaskPolicy) => Effect.Effect<any, any>) =>
  (options: SubmitOptions) => {
    const policy = checkSubmitOptions(options)
    return (task: unknown, ...args: Array<unknown>): Effect.Effect<any, any> => {
      if (policy instanceof Error) return Effect.die(policy)
      const signal = policy.signal
      const submitted = submit(task, args, policy)
      return signal === undefined
        ? submitted
        : Effect.tap(submitted, (future) =>
            Effect.withFiber((fiber) => {
              watchSignal(future, signal, fiber.context)
              return Effect.void
            })
          )
    }
  }
