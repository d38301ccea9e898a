/**
 * What every pool shares, written once as CPython's `_base.Executor` holds what no single
 * executor owns: the lifecycle (open, shut down, broken), the checks a submit meets first,
 * `maxQueue` admission, `shutdown(wait, cancelFutures)`, the scope's close, the one way to
 * break, and the moment the pool has terminated. A pool (`ThreadPool`, `WorkerPool`) extends
 * it with its queue's consumers (fibers or worker threads and processes) and answers the
 * hooks below.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { BrokenExecutor, type ExecutorKind, ExecutorShutdownError } from "../../Errors.ts"
import type { ShutdownOptions } from "../../Executor.ts"
import { PriorityFifo } from "../fifo.ts"
import * as core from "../future/state.ts"
import type { ExecutorObserver } from "../observe.ts"
import type { Admission } from "../policy/admission.ts"
import { abortedBeforeQueued } from "../policy/attempt.ts"
import type { TaskPolicy } from "../policy/options.ts"
import { Unobserved } from "../policy/unobserved.ts"
import type { Submitted } from "./map.ts"

/** What a pool queues: at least the call's future. */
/** @internal */
export interface Queued {
  readonly future: core.FutureImpl<unknown, unknown>
}

/** Why a submit is refused before it queues: the pool is broken or shut down. */
/** @internal */
export type Closed = BrokenExecutor | ExecutorShutdownError

/** @internal */
export abstract class PoolCore<Item extends Queued> {
  readonly kind: ExecutorKind
  /** Calls waiting for a worker, highest priority first. */
  protected readonly queue = new PriorityFifo<Item>()
  /** Futures that failed and nobody has looked at yet. */
  readonly unobserved = new Unobserved()
  /** What its futures are told: their end (counted), and a failure nobody looked at. */
  protected readonly owner: core.FutureOwner
  protected readonly observer: ExecutorObserver
  /** `maxQueue`: where submitters wait, or are refused, while the queue is full. */
  protected readonly admission: Admission | undefined
  protected isShutdown = false
  /** Why the pool broke: every later submit fails with it. */
  protected broken: BrokenExecutor | undefined = undefined
  private readonly terminated = Deferred.makeUnsafe<void>()
  /** Where the done callbacks of futures ended by the pool itself run. */
  protected readonly context: Context.Context<never>

  constructor(
    kind: ExecutorKind,
    observer: ExecutorObserver,
    admission: Admission | undefined,
    context: Context.Context<never>
  ) {
    this.kind = kind
    this.observer = observer
    this.admission = admission
    this.context = context
    this.owner = { unobserved: this.unobserved, onEnd: observer.onEnd }
  }

  /** Calls waiting to start that keep the pool from terminating. */
  protected abstract pending(): number

  /**
   * Called once shut down with nothing pending: stops what has no work left, and says whether
   * everything has stopped (then the pool has terminated).
   */
  protected abstract windDown(): boolean

  /** Fails every call the pool holds (queued ones too) with `exit` and stops what runs them. */
  protected abstract abandon(exit: Exit.Exit<never, unknown>): void

  /** Stops what runs, for a scope closed by interruption; resolves when the pool may terminate. */
  protected abstract interruptRunning(): Effect.Effect<void>

  /** What a pool does beyond the common part when it shuts down (idle workers, timers). */
  protected onShutdown(): void {}

  /**
   * The checks every submit meets first, in CPython's order: broken, then shut down. Then a call
   * whose `signal` is already aborted gets a cancelled future, never queued. `undefined`: go on.
   */
  protected refuse(policy: TaskPolicy | undefined): Closed | core.FutureImpl<unknown, unknown> | undefined {
    if (this.broken !== undefined) return this.broken
    if (this.isShutdown) return new ExecutorShutdownError({ message: "cannot schedule new futures after shutdown" })
    if (policy?.signal?.aborted === true) return abortedBeforeQueued(this.newFuture())
    return undefined
  }

  /** A future of this pool, counted as submitted: its end is counted and its unobserved failure recorded. */
  protected newFuture(): core.FutureImpl<unknown, unknown> {
    const future = new core.FutureImpl<unknown, unknown>(this.owner)
    this.observer.submitted++
    return future
  }

  /**
   * Ends a future for the pool (its call ended, or the pool gives up on it) and runs its done
   * callbacks in the pool's context; one cancelled while queued is only notified.
   */
  protected end(future: core.FutureImpl<unknown, unknown>, exit: Exit.Exit<unknown, unknown>): void {
    future.interruptor = undefined
    if (core.endUnsafe(future, exit) && core.hasCallbacks(future)) {
      Effect.runForkWith(this.context)(core.doneCallbacks(future))
    }
  }

  /**
   * CPython's `_terminate_broken`, the one way a pool breaks: one reason, kept for every later
   * submit; what the pool holds fails with it; submitters waiting for room meet it.
   */
  protected break(reason: string, cause: unknown): BrokenExecutor {
    if (this.broken !== undefined) return this.broken
    this.broken = new BrokenExecutor({ kind: this.kind, reason, ...(cause === undefined ? {} : { cause }) })
    this.abandon(Exit.fail(this.broken))
    this.admission?.wakeAll()
    return this.broken
  }

  /** CPython's `shutdown(wait, cancel_futures)`: no new calls; queued ones cancelled on request; wait for the end. */
  shutdown(options: ShutdownOptions | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.isShutdown = true
      this.admission?.wakeAll()
      this.onShutdown()
      const callbacks: Array<Effect.Effect<void>> = []
      if (options?.cancelFutures === true) {
        for (const item of this.queue.drain()) {
          const won = core.cancelUnsafe(item.future)
          // Nothing will ever pick these up, so tell `wait`/`asCompleted` now.
          core.setRunningOrNotifyCancelUnsafe(item.future)
          if (won) callbacks.push(core.doneCallbacks(item.future))
        }
      }
      this.checkTerminated()
      const cancelAll = Effect.all(callbacks, { discard: true })
      return options?.wait === false ? cancelAll : Effect.andThen(cancelAll, this.awaitTerminated)
    })
  }

  /**
   * The scope's end, Python's `with` exit: `shutdown({ wait: true })`. An interrupted scope
   * also cancels what is queued and stops what runs, as `Future.interrupt` does.
   */
  close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    if (!Exit.hasInterrupts(exit)) return this.shutdown({ wait: true })
    return Effect.andThen(
      this.shutdown({ wait: false, cancelFutures: true }),
      Effect.andThen(
        Effect.suspend(() => this.interruptRunning()),
        this.awaitTerminated
      )
    )
  }

  /** Resolves once the pool has shut down and everything it ran has stopped. */
  protected readonly awaitTerminated: Effect.Effect<void> = Deferred.await(this.terminated)

  /** Marks the pool terminated when it is shut down, holds nothing and nothing runs. */
  protected checkTerminated(): void {
    if (this.isShutdown && this.pending() === 0 && this.windDown()) Deferred.doneUnsafe(this.terminated, Exit.void)
  }
}

/**
 * A call as a sending pool's submit gets it: one call (`chunk` undefined, `args` its arguments)
 * or a chunk of `map`'s calls (`args` their argument lists, `chunk` the map input of the first).
 */
/** @internal */
export interface NewCall {
  readonly task: unknown
  readonly args: ReadonlyArray<unknown>
  readonly chunk: number | undefined
  readonly context: Context.Context<never>
  readonly policy: TaskPolicy | undefined
}

/**
 * A pool whose calls leave this thread (the worker pools, the cluster client): every submit
 * queues its call, and `map`'s chunks (`chunksize`) go as one unit.
 */
/** @internal */
export abstract class SendingPool<Item extends Queued> extends PoolCore<Item> {
  /** CPython's `submit`: after the common checks and admission, the call is queued and sent. */
  submit(
    task: unknown,
    args: ReadonlyArray<unknown>,
    context: Context.Context<never>,
    policy: TaskPolicy | undefined
  ): Submitted {
    return this.enqueue(task, args, undefined, context, policy)
  }

  /** One call of `map`. */
  call(task: unknown, args: ReadonlyArray<unknown>, context: Context.Context<never>): Submitted {
    return this.enqueue(task, args, undefined, context, undefined)
  }

  /** A chunk of `map`'s calls, sent as one unit; `first` is the map input of its first call. */
  callChunk(
    task: unknown,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    context: Context.Context<never>,
    first: number
  ): Submitted {
    return this.enqueue(task, argsList, first, context, undefined)
  }

  /**
   * Every submit of these pools: the common checks, then admission with `free()` calls that can
   * leave at once, then the call queued (`queueCall`) under a new future.
   */
  private enqueue(
    task: unknown,
    args: ReadonlyArray<unknown>,
    chunk: number | undefined,
    context: Context.Context<never>,
    policy: TaskPolicy | undefined
  ): Submitted {
    const refused = this.refuse(policy)
    if (refused !== undefined) return refused
    const full = this.admission?.admit(this.pending(), this.free())
    if (full !== undefined) return full
    const future = this.newFuture()
    this.queueCall(future, { task, args, chunk, context, policy })
    return future
  }

  /** How many calls could leave now, were they queued: what admission counts as free workers. */
  protected abstract free(): number

  /** Queues `call` under `future`, or ends `future` at once where the call cannot be sent. */
  protected abstract queueCall(future: core.FutureImpl<unknown, unknown>, call: NewCall): void
}
