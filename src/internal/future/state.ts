/**
 * The synchronous core of a future: Python's five states, the exit it ends
 * with, the fibers waiting on it and the `wait`/`asCompleted` waiters. Every
 * transition is plain code, as in CPython's `_base.Future`: check the state,
 * change it, notify. A transition says whether this call made it; the one that
 * did then takes the done callbacks (`doneCallbacks`) to run them. The state,
 * exit, callbacks and waiters change only here.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { pipeArguments } from "effect/Pipeable"
import { SingleShotGen } from "effect/Utils"
import { CancelledError, InvalidStateError } from "../../Errors.ts"

/** @internal */
export type State = "PENDING" | "RUNNING" | "CANCELLED" | "CANCELLED_AND_NOTIFIED" | "FINISHED"

/** @internal */
export const TypeId = "~effect-futures/Future" as const

/** What a `wait`/`asCompleted` waiter is told, as CPython's `add_result`/`add_exception`/`add_cancelled`. */
/** @internal */
export type Outcome = "result" | "exception" | "cancelled"

/** @internal */
export type Waiter = (future: FutureImpl<any, any>, outcome: Outcome) => void

/** @internal */
export type DoneCallback = (future: FutureImpl<any, any>) => Effect.Effect<void>

/** @internal */
export type FutureExit<A, E> = Exit.Exit<A, E | CancelledError>

/** A blocked fiber's wake-up, given the future's exit. */
/** @internal */
export type Resume<A, E> = (exit: FutureExit<A, E>) => void

const stateText: Record<State, string> = {
  PENDING: "pending",
  RUNNING: "running",
  CANCELLED: "cancelled",
  CANCELLED_AND_NOTIFIED: "cancelled",
  FINISHED: "finished"
}

let nextId = 0

/** An executor's record of the failures nobody looked at (policy/unobserved.ts). */
/** @internal */
export interface UnobservedRecord {
  /** `f` failed and nobody had looked at it. */
  failed(f: FutureImpl<any, any>): void
  /** Someone looked at `f` after it had failed unobserved. */
  seen(f: FutureImpl<any, any>): void
}

/** The executor that made a future, as the future sees it: told of its end, and of a failure nobody looked at. */
/** @internal */
export interface FutureOwner {
  /** The executor's record of failures nobody looked at; the future joins it if it fails unobserved. */
  readonly unobserved: UnobservedRecord | undefined
  /** Told once, when the future ends (finished or cancelled): the executor counts the outcome. */
  readonly onEnd: ((future: FutureImpl<any, any>) => void) | undefined
}

/** @internal */
export class FutureImpl<A, E> {
  /** On the prototype (below): one field less in every future. */
  declare readonly [TypeId]: typeof TypeId
  readonly id = ++nextId
  state: State = "PENDING"
  exit: FutureExit<A, E> | undefined = undefined
  /** Done callbacks, in the order they were added (CPython's `_done_callbacks`). */
  callbacks: Array<DoneCallback> | undefined = undefined
  /** Fibers blocked in `result`/`exception`/`await`; woken on any end, cancel included. Mostly one: no Set. */
  resumes: Resume<A, E> | Set<Resume<A, E>> | undefined = undefined
  /** `wait`/`asCompleted` waiters; told only on FINISHED or CANCELLED_AND_NOTIFIED. */
  waiters: Set<Waiter> | undefined = undefined
  /** Set by the executor while the task runs: stops it, and resolves once it has stopped. */
  interruptor: Effect.Effect<void> | undefined = undefined
  /** Someone looked at the outcome: `result`, `exception`, `await`, a done callback or a stream (`observe`). */
  observed = false
  /** What the task reported with `Task.progress`: the latest value and who listens. */
  progress: { latest: unknown; reported: boolean; readonly listeners: Set<(value: unknown) => void> } | undefined =
    undefined
  /** The executor that made it; none for a future made by hand (`Future.make`). */
  readonly owner: FutureOwner | undefined

  constructor(owner?: FutureOwner) {
    this.owner = owner
  }

  [Symbol.iterator](): Iterator<Effect.Effect<A, E | CancelledError>, A> {
    return new SingleShotGen(awaitResult(this)) as any
  }

  /** `future.pipe(f, g)`, as every Effect data type has: defined here, so no module patches the class. */
  pipe(): unknown {
    return pipeArguments(this, arguments)
  }

  toJSON(): unknown {
    return { _id: "Future", id: this.id, state: this.state }
  }

  toString(): string {
    const exit = this.exit
    const detail =
      this.state !== "FINISHED" || exit === undefined
        ? ""
        : Exit.isSuccess(exit)
          ? ` returned ${typeName(exit.value)}`
          : ` raised ${typeName(Cause.squash(exit.cause))}`
    return `<Future #${this.id} state=${stateText[this.state]}${detail}>`
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

Object.defineProperty(FutureImpl.prototype, TypeId, { value: TypeId })

const typeName = (u: unknown): string => {
  if (u === null || typeof u !== "object") return u === null ? "null" : typeof u
  const tag = (u as { _tag?: unknown })._tag
  return typeof tag === "string" ? tag : (u.constructor?.name ?? "Object")
}

/** @internal */
export const isDone = (f: FutureImpl<any, any>): boolean =>
  f.state === "FINISHED" || f.state === "CANCELLED" || f.state === "CANCELLED_AND_NOTIFIED"

/** What `wait` and `asCompleted` count as done (CPython's `[CANCELLED_AND_NOTIFIED, FINISHED]`). */
/** @internal */
export const isNotified = (f: FutureImpl<any, any>): boolean =>
  f.state === "FINISHED" || f.state === "CANCELLED_AND_NOTIFIED"

/** @internal */
export const outcomeOf = (f: FutureImpl<any, any>): Outcome =>
  f.state !== "FINISHED" ? "cancelled" : Exit.isSuccess(f.exit!) ? "result" : "exception"

/** @internal */
export const invalidState = (f: FutureImpl<any, any>, action: string): InvalidStateError =>
  new InvalidStateError({ message: `cannot ${action}: ${f.state}: ${f}` })

const cancelledExit = (f: FutureImpl<any, any>): Exit.Exit<never, CancelledError> =>
  Exit.fail(new CancelledError({ message: `${f} was cancelled` }))

const wake = <A, E>(f: FutureImpl<A, E>): void => {
  const resumes = f.resumes
  if (resumes === undefined) return
  f.resumes = undefined
  if (typeof resumes === "function") resumes(f.exit!)
  else for (const resume of resumes) resume(f.exit!)
}

const notify = (f: FutureImpl<any, any>, outcome: Outcome): void => {
  const waiters = f.waiters
  if (waiters === undefined) return
  for (const waiter of waiters) waiter(f, outcome)
}

/**
 * The done callbacks of a future that has just ended, taken now (it holds none afterwards), as
 * one Effect that runs them in order; each one's failure was already made a log line. Only the
 * call that ended the future takes them.
 */
/** @internal */
export const doneCallbacks = (f: FutureImpl<any, any>): Effect.Effect<void> => {
  const callbacks = f.callbacks
  if (callbacks === undefined) return Effect.void
  f.callbacks = undefined
  return Effect.forEach(callbacks, (cb) => cb(f), { discard: true })
}

/** Whether the future holds done callbacks (it ended and someone must run them). */
/** @internal */
export const hasCallbacks = (f: FutureImpl<any, any>): boolean => f.callbacks !== undefined

/** Adds a done callback to a future that has not ended (one that has runs the callback itself). */
/** @internal */
export const addCallback = (f: FutureImpl<any, any>, callback: DoneCallback): void => {
  ;(f.callbacks ??= []).push(callback)
}

/**
 * Python's `cancel()` transition: PENDING becomes CANCELLED and blocked callers wake. `true` when
 * this call cancelled it (then its done callbacks are to run).
 */
/** @internal */
export const cancelUnsafe = (f: FutureImpl<any, any>): boolean => {
  if (f.state !== "PENDING") return false
  f.state = "CANCELLED"
  f.exit = cancelledExit(f)
  f.owner?.onEnd?.(f)
  wake(f)
  return true
}

/** Whether it was cancelled (by any call), as Python's `cancel()` answers for a future already cancelled. */
/** @internal */
export const isCancelled = (f: FutureImpl<any, any>): boolean =>
  f.state === "CANCELLED" || f.state === "CANCELLED_AND_NOTIFIED"

/**
 * Python's `set_running_or_notify_cancel()`: PENDING becomes RUNNING (`true`);
 * CANCELLED becomes CANCELLED_AND_NOTIFIED and the waiters are told (`false`);
 * any other state is an error.
 */
/** @internal */
export const setRunningOrNotifyCancelUnsafe = (f: FutureImpl<any, any>): boolean | InvalidStateError => {
  switch (f.state) {
    case "PENDING":
      f.state = "RUNNING"
      return true
    case "CANCELLED":
      f.state = "CANCELLED_AND_NOTIFIED"
      notify(f, "cancelled")
      return false
    default:
      return invalidState(f, "set running")
  }
}

/**
 * Python's `set_result()`/`set_exception()`: the future becomes FINISHED with
 * `exit`. An exit that is only an interruption ends it cancelled instead, as
 * `Future.interrupt` promises. `false` (nothing changes) once the future is done.
 */
/** @internal */
export const completeUnsafe = <A, E>(f: FutureImpl<A, E>, exit: Exit.Exit<A, E>): boolean => {
  if (f.state !== "PENDING" && f.state !== "RUNNING") return false
  if (
    Exit.isFailure(exit) &&
    exit.cause.reasons.length > 0 &&
    exit.cause.reasons.every((r) => r._tag === "Interrupt")
  ) {
    f.state = "CANCELLED_AND_NOTIFIED"
    f.exit = cancelledExit(f)
    f.owner?.onEnd?.(f)
    notify(f, "cancelled")
    wake(f)
  } else {
    f.state = "FINISHED"
    f.exit = exit
    if (!f.observed && Exit.isFailure(exit)) f.owner?.unobserved?.failed(f)
    f.owner?.onEnd?.(f)
    // Waiters first, as CPython does: a fiber woken below may complete other futures at once.
    notify(f, Exit.isSuccess(exit) ? "result" : "exception")
    wake(f)
  }
  return true
}

/**
 * A future for a call that ended before anyone could hold it (the thread pool's direct call),
 * made ended: nobody can be waiting on it, so only its owner is told.
 */
/** @internal */
export const endedUnsafe = <A, E>(owner: FutureOwner, exit: Exit.Exit<A, E>): FutureImpl<A, E> => {
  const f = new FutureImpl<A, E>(owner)
  if (Exit.isSuccess(exit)) {
    f.state = "FINISHED"
    f.exit = exit
    owner.onEnd?.(f)
  } else {
    completeUnsafe(f, exit)
  }
  return f
}

/**
 * Ends a future its executor gives up on (a broken or closing pool): completes
 * it with `exit`; one cancelled while queued is notified instead, so `wait`
 * and `asCompleted` count it as done. `true` when this call completed it.
 */
/** @internal */
export const endUnsafe = <A, E>(f: FutureImpl<A, E>, exit: Exit.Exit<A, E>): boolean => {
  if (f.state !== "CANCELLED") return completeUnsafe(f, exit)
  setRunningOrNotifyCancelUnsafe(f)
  return false
}

/** Wakes `resume` when `f` ends, until `removeResume`. */
/** @internal */
export const addResume = <A, E>(f: FutureImpl<A, E>, resume: Resume<A, E>): void => {
  const resumes = f.resumes
  if (resumes === undefined) f.resumes = resume
  else if (typeof resumes === "function") f.resumes = new Set([resumes, resume])
  else resumes.add(resume)
}

/** @internal */
export const removeResume = <A, E>(f: FutureImpl<A, E>, resume: Resume<A, E>): void => {
  const resumes = f.resumes
  if (resumes === resume) f.resumes = undefined
  else if (typeof resumes === "object") resumes.delete(resume)
}

const blockUntilDone = <A, E>(f: FutureImpl<A, E>): Effect.Effect<FutureExit<A, E>> =>
  Effect.callback<FutureExit<A, E>>((resume) => {
    const onDone = (exit: FutureExit<A, E>) => resume(Effect.succeed(exit))
    addResume(f, onDone)
    return Effect.sync(() => removeResume(f, onDone))
  })

/** Waits for any end, cancel included, without failing: Python's `_condition.wait()`. */
/** @internal */
export const awaitDone = <A, E>(f: FutureImpl<A, E>): Effect.Effect<FutureExit<A, E>> =>
  Effect.suspend(() => (f.exit !== undefined ? Effect.succeed(f.exit) : blockUntilDone(f)))

/** The task reports progress: kept as the latest value and passed to every listener, until the future is done. */
/** @internal */
export const reportProgress = (f: FutureImpl<any, any>, value: unknown): void => {
  if (isDone(f)) return
  const progress = (f.progress ??= { latest: undefined, reported: false, listeners: new Set() })
  progress.latest = value
  progress.reported = true
  for (const listener of progress.listeners) listener(value)
}

/** Someone looks at the future's outcome: it no longer counts as an unobserved failure. */
/** @internal */
export const observe = (f: FutureImpl<any, any>): void => {
  if (f.observed) return
  f.observed = true
  // Counted when it failed with nobody looking: it leaves the count.
  if (f.state === "FINISHED" && Exit.isFailure(f.exit!)) f.owner?.unobserved?.seen(f)
}

/**
 * Waits for the result: an `Exit` is itself the Effect that gives it, so a done future costs one step.
 * A success already there is given as it is: looking at a success changes nothing (only failures
 * are watched for being seen), and a finished future never changes again.
 */
/** @internal */
export const awaitResult = <A, E>(f: FutureImpl<A, E>): Effect.Effect<A, E | CancelledError> => {
  const exit = f.exit
  if (exit !== undefined && Exit.isSuccess(exit)) return exit
  // One step whether or not it has ended: a blocked fiber resumes with the exit itself.
  return Effect.callback<A, E | CancelledError>((resume) => {
    observe(f)
    if (f.exit !== undefined) return resume(f.exit)
    addResume(f, resume)
    return Effect.sync(() => removeResume(f, resume))
  })
}
