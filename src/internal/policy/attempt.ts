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
import * as Schedule from "effect/Schedule"
import type { SubmitOptions } from "../../Executor.ts"
import * as Future from "../../Future.ts"
import * as core from "../future/state.ts"
import { checkSubmitOptions, type TaskPolicy } from "./options.ts"

/** The failure a task gets when its `timeout` passes while it runs. */
/** @internal */
export const taskTimedOut = (timeout: Duration.Duration): Cause.TimeoutError =>
  new Cause.TimeoutError(
    `the task did not finish within its timeout of ${Duration.format(timeout)}; it was interrupted`
  )

/** Whether a failed attempt may be retried: anything but an interruption. */
/** @internal */
export const retriable = (cause: Cause.Cause<unknown>): boolean => !Cause.hasInterruptsOnly(cause)

/**
 * An in-process task under its policy: each attempt bounded by `timeout`, and
 * failed attempts (failures and defects, not interruptions) run again as
 * `retries` allows. The last failure is the task's.
 */
/** @internal */
export const applyPolicy = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  policy: TaskPolicy
): Effect.Effect<A, E | Cause.TimeoutError, R> => {
  const timeout = policy.timeout
  const attempt: Effect.Effect<A, E | Cause.TimeoutError, R> =
    timeout === undefined
      ? effect
      : Effect.timeoutOrElse(effect, { duration: timeout, orElse: () => Effect.fail(taskTimedOut(timeout)) })
  const retries = policy.retries
  if (retries === undefined) return attempt
  return Effect.flatMap(Schedule.toStepWithSleep(retries), (step) => {
    const loop: Effect.Effect<A, E | Cause.TimeoutError, R> = Effect.catchCause(attempt, (cause) =>
      retriable(cause)
        ? Effect.matchCauseEffect(step(Cause.squash(cause)), {
            onFailure: () => Effect.failCause(cause),
            onSuccess: () => loop
          })
        : Effect.failCause(cause)
    )
    return loop
  })
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
  ;(future.callbacks ??= []).push(() =>
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
