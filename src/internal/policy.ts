/**
 * What goes beyond Python's executors, shared by every pool: per-task options
 * (`priority`, `timeout`, `retries`, `signal`), a bounded queue that makes
 * submitters wait or refuses them, and the record of failures nobody looked at.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import { type ExecutorKind, QueueFull, UnobservedFailures } from "../Errors.ts"
import type { PoolOptions, SubmitOptions } from "../Executor.ts"
import * as Future from "../Future.ts"
import { Fifo } from "./fifo.ts"
import * as core from "./futureState.ts"
import { badOption, decodeTimeout } from "./options.ts"

/** A task's options, checked. */
/** @internal */
export interface TaskPolicy {
  readonly priority: number
  readonly timeout: Duration.Duration | undefined
  readonly retries: Schedule.Schedule<unknown, unknown> | undefined
  readonly signal: AbortSignal | undefined
}

/** Checks `submitWith`'s options: each mistake names the option, the value and the rule. */
const checkSubmitOptions = (options: SubmitOptions): TaskPolicy | Cause.IllegalArgumentError => {
  if (typeof options !== "object" || options === null) {
    return badOption("submitWith: options", "an object such as { priority: 1 }", options)
  }
  const priority = options.priority ?? 0
  if (typeof priority !== "number" || !Number.isFinite(priority)) {
    return badOption("submitWith: priority", "a finite number (higher runs first, default 0)", priority)
  }
  const timeout = decodeTimeout("submitWith: timeout", options.timeout)
  if (Cause.isIllegalArgumentError(timeout)) return timeout
  const retries = options.retries
  let schedule: Schedule.Schedule<unknown, unknown> | undefined
  if (typeof retries === "number") {
    if (!Number.isInteger(retries) || retries < 0) {
      return badOption("submitWith: retries", "a whole number of retries (0 or more) or a Schedule", retries)
    }
    schedule = retries === 0 ? undefined : Schedule.recurs(retries)
  } else if (retries !== undefined) {
    if (!Schedule.isSchedule(retries)) {
      return badOption("submitWith: retries", "a whole number of retries (0 or more) or a Schedule", retries)
    }
    schedule = retries as Schedule.Schedule<unknown, unknown>
  }
  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return badOption("submitWith: signal", "an AbortSignal", signal)
  }
  return { priority, timeout, retries: schedule, signal }
}

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

/** The pool-wide options beyond Python, checked. */
/** @internal */
export interface PoolPolicy {
  readonly maxQueue: number | undefined
  readonly whenFull: "suspend" | "reject"
  readonly failOnUnobserved: boolean
}

/** @internal */
export const checkPoolOptions = (options: PoolOptions): PoolPolicy | Cause.IllegalArgumentError => {
  const maxQueue = options.maxQueue
  if (maxQueue !== undefined && !(typeof maxQueue === "number" && Number.isInteger(maxQueue) && maxQueue >= 0)) {
    return badOption("maxQueue", "a whole number of pending tasks (0 or more)", maxQueue)
  }
  const whenFull = options.whenFull ?? "suspend"
  if (whenFull !== "suspend" && whenFull !== "reject") {
    return badOption("whenFull", '"suspend" or "reject"', whenFull)
  }
  const failOnUnobserved = options.failOnUnobserved ?? false
  if (typeof failOnUnobserved !== "boolean") return badOption("failOnUnobserved", "a boolean", failOnUnobserved)
  return { maxQueue, whenFull, failOnUnobserved }
}

/**
 * `maxQueue`: how many tasks may wait for a worker. A task that a free worker
 * can take now never waits, so `maxQueue: 0` admits exactly the tasks that
 * can start at once. When the queue is full a submit is refused with
 * `QueueFull` ("reject") or waits here until a task leaves the queue or a
 * worker becomes free ("suspend"), in the order the submitters came.
 */
/** @internal */
export class Room {
  readonly maxQueue: number
  readonly whenFull: "suspend" | "reject"
  private readonly waiters = new Fifo<() => void>()
  private readonly kind: ExecutorKind

  constructor(kind: ExecutorKind, maxQueue: number, whenFull: "suspend" | "reject") {
    this.kind = kind
    this.maxQueue = maxQueue
    this.whenFull = whenFull
  }

  /**
   * The one admission rule of every pool: with `queued` tasks waiting and `free` workers that
   * can take a task now (idle, or yet to be started under `maxWorkers`), a new task is admitted
   * while fewer than `maxQueue` tasks would be left waiting once the free workers took theirs.
   * `undefined` when admitted, else what `full` gives.
   */
  admit(queued: number, free: number): QueueFull | Room | undefined {
    return queued - free < this.maxQueue ? undefined : this.full()
  }

  /** Why a submit cannot queue now: `QueueFull` to fail with, or this `Room` to wait on. */
  private full(): QueueFull | Room {
    return this.whenFull === "reject"
      ? new QueueFull({
          kind: this.kind,
          maxQueue: this.maxQueue,
          message:
            `every worker is busy and the queue already holds maxQueue = ${this.maxQueue} pending tasks; ` +
            `retry later, raise maxQueue, or use whenFull: "suspend" to wait for room`
        })
      : this
  }

  /** Waits until a task leaves the queue (or the pool shuts down), then the caller tries again. */
  readonly wait: Effect.Effect<void> = Effect.callback<void>((resume) => {
    let woken = false
    const wake = () => {
      woken = true
      resume(Effect.void)
    }
    this.waiters.push(wake)
    return Effect.sync(() => {
      // Interrupted while waiting: pass the turn on if it was already given.
      if (woken) this.wakeOne()
      else this.removed.add(wake)
    })
  })

  private readonly removed = new Set<() => void>()

  private wakeOne(): boolean {
    for (let next = this.waiters.shift(); next !== undefined; next = this.waiters.shift()) {
      if (this.removed.delete(next)) continue
      next()
      return true
    }
    return false
  }

  /** `free` more tasks can be admitted (tasks left the queue, or workers became free): wake that many waiters. */
  freed(free: number): void {
    for (let i = 0; i < free && this.waiters.length > 0; i++) if (!this.wakeOne()) return
  }

  /** Shutdown or a broken pool: every waiter tries again and meets the error. */
  wakeAll(): void {
    while (this.wakeOne()) {}
  }

  get waiting(): number {
    return this.waiters.length
  }
}

/** What a synchronous submit may give beyond a future: wait for room and try again. */
/** @internal */
export const isRoom = (u: unknown): u is Room => u instanceof Room

/**
 * A synchronous submit's outcome `out` as an Effect: the future, the submit
 * error, or, where it found the queue full ("suspend"), a wait for room and
 * then another `attempt`. An abort of the call's `signal` also ends the wait:
 * the next attempt then gives the pool's answer to an aborted call.
 */
/** @internal */
export const settleSubmit = <F, E>(
  out: F | E | Room,
  attempt: () => F | E | Room,
  signal?: AbortSignal
): Effect.Effect<F, E> => {
  if (out instanceof Room)
    return Effect.andThen(
      signal === undefined ? out.wait : Effect.raceFirst(out.wait, untilAborted(signal)),
      Effect.suspend(() => settleSubmit(attempt(), attempt, signal))
    )
  return out instanceof Error ? Effect.fail(out as E) : Effect.succeed(out as F)
}

/** Resumes once `signal` is aborted. */
const untilAborted = (signal: AbortSignal): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (signal.aborted) return resume(Effect.void)
    const onAbort = () => resume(Effect.void)
    signal.addEventListener("abort", onAbort, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", onAbort))
  })

/** How many unobserved failures keep their future, and so their cause, for the report. */
const keptUnobserved = 5

/**
 * An executor's failures that nobody looked at: every one counted, only the first few kept,
 * so a long-lived pool with fire-and-forget failures holds a bounded amount. A future looked
 * at later leaves the count (and the kept ones, if it was there).
 */
/** @internal */
export class Unobserved implements core.UnobservedRecord {
  count = 0
  readonly kept = new Set<core.FutureImpl<any, any>>()

  failed(f: core.FutureImpl<any, any>): void {
    this.count++
    if (this.kept.size < keptUnobserved) this.kept.add(f)
  }

  seen(f: core.FutureImpl<any, any>): void {
    this.count--
    this.kept.delete(f)
  }
}

/** The failure a future ended with, for the report. */
const causeOf = (f: core.FutureImpl<any, any>): Cause.Cause<unknown> => (f.exit as Exit.Failure<unknown, unknown>).cause

/** A failure in a line: its message where it has one. */
const describeFailure = (f: core.FutureImpl<any, any>): string => {
  const error = Cause.squash(causeOf(f))
  return error instanceof Error ? `${f}: ${error.message}` : `${f}: ${String(error)}`
}

/**
 * At the executor's end: the failures no one looked at, as one warning for the executor
 * (the count, then the first few with their causes), or as the scope's defect with
 * `failOnUnobserved`.
 */
/** @internal */
export const reportUnobserved = (
  kind: ExecutorKind,
  name: string,
  unobserved: Unobserved,
  fail: boolean
): Effect.Effect<void> =>
  Effect.suspend(() => {
    const count = unobserved.count
    const kept = [...unobserved.kept]
    unobserved.count = 0
    unobserved.kept.clear()
    if (count === 0) return Effect.void
    const summary =
      `${count} future${count === 1 ? "" : "s"} of the ${kind}Executor ${JSON.stringify(name)} failed and ` +
      `nobody looked at the failure (no result, exception, await, done callback or stream)`
    const first =
      kept.length === 0
        ? ""
        : `${count > kept.length ? `; the first ${kept.length}` : ""}: ${kept.map(describeFailure).join("; ")}`
    if (fail) {
      return Effect.die(
        new UnobservedFailures({
          kind,
          count,
          message: `${summary}${first}`,
          failures: kept.map((f) => Cause.squash(causeOf(f)))
        })
      )
    }
    return Effect.logWarning(`${summary}${first}`, ...kept.map(causeOf))
  })
