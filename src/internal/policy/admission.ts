/**
 * `maxQueue` and `whenFull`, one rule for every pool: how many submitted tasks may wait for a
 * worker, and what a submit does when that many wait (wait for room, or fail with `QueueFull`).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { type ExecutorKind, QueueFull } from "../../Errors.ts"
import { Fifo } from "../fifo.ts"

/**
 * `maxQueue`: how many tasks may wait for a worker. A task that a free worker
 * can take now never waits, so `maxQueue: 0` admits exactly the tasks that
 * can start at once. When the queue is full a submit is refused with
 * `QueueFull` ("reject") or waits here until a task leaves the queue or a
 * worker becomes free ("suspend"), in the order the submitters came.
 */
/** @internal */
export class Admission {
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
  admit(queued: number, free: number): QueueFull | Admission | undefined {
    return queued - free < this.maxQueue ? undefined : this.full()
  }

  /** Why a submit cannot queue now: `QueueFull` to fail with, or this `Admission` to wait on. */
  private full(): QueueFull | Admission {
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
export const mustWait = (u: unknown): u is Admission => u instanceof Admission

/**
 * A synchronous submit's outcome `out` as an Effect: the future, the submit
 * error, or, where it found the queue full ("suspend"), a wait for room and
 * then another `attempt`. An abort of the call's `signal` also ends the wait:
 * the next attempt then gives the pool's answer to an aborted call.
 */
/** @internal */
export const settleSubmit = <F, E>(
  out: F | E | Admission,
  attempt: () => F | E | Admission,
  signal?: AbortSignal
): Effect.Effect<F, E> => {
  if (out instanceof Admission)
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
