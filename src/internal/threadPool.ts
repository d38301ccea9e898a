/**
 * The thread pool's machinery, after CPython's `thread.py`: a FIFO of work
 * items, workers started lazily up to `maxWorkers`, idle workers reused before
 * new ones start, an initializer per worker whose failure breaks the pool.
 * A worker here is a slot, not a fiber: each task runs in a fiber of its own
 * (so `Future.interrupt` stops exactly that task), and when it ends the same
 * worker takes the next item.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { BrokenExecutor, ExecutorShutdownError } from "../Errors.ts"
import type { ShutdownOptions } from "../Executor.ts"
import { Fifo } from "./fifo.ts"
import * as core from "./futureState.ts"

interface WorkItem {
  readonly future: core.FutureImpl<unknown, unknown>
  readonly effect: Effect.Effect<unknown, unknown, unknown>
  readonly context: Context.Context<never>
}

interface Worker {
  readonly name: string
  initialized: boolean
}

/** Task fibers started in one synchronous run before the rest wait a macrotask, so other fibers get a turn. */
const startsPerTurn = 1024

/** @internal */
export interface ThreadPoolConfig {
  readonly maxWorkers: number
  readonly threadNamePrefix: string
  readonly initializer: Effect.Effect<unknown, unknown> | undefined
}

/** @internal */
export class ThreadPool {
  readonly config: ThreadPoolConfig
  private readonly queue = new Fifo<WorkItem>()
  private readonly idle: Array<Worker> = []
  private readonly ready: Array<Worker> = []
  private readonly running = new Set<Fiber.Fiber<unknown, unknown>>()
  private workerCount = 0
  private draining = false
  private isShutdown = false
  private broken: BrokenExecutor | undefined = undefined
  private readonly terminated = Deferred.makeUnsafe<void>()

  constructor(config: ThreadPoolConfig) {
    this.config = config
  }

  /** CPython's `submit`: checks broken, then shutdown, then queues and adjusts the worker count. */
  submit(
    effect: Effect.Effect<unknown, unknown, unknown>,
    context: Context.Context<never>
  ): core.FutureImpl<unknown, unknown> | BrokenExecutor | ExecutorShutdownError {
    if (this.broken !== undefined) return this.broken
    if (this.isShutdown) {
      return new ExecutorShutdownError({ message: "cannot schedule new futures after shutdown" })
    }
    const future = new core.FutureImpl<unknown, unknown>()
    this.queue.push({ future, effect, context })
    this.adjust()
    return future
  }

  get pending(): number {
    return this.queue.length
  }

  /** CPython's `_adjust_thread_count`: wake an idle worker, or start one while under `maxWorkers`. */
  private adjust(): void {
    const worker = this.idle.pop()
    if (worker !== undefined) {
      this.schedule(worker)
      return
    }
    if (this.workerCount < this.config.maxWorkers) {
      this.schedule({ name: `${this.config.threadNamePrefix}_${this.workerCount++}`, initialized: false })
    }
  }

  /** Runs `worker`'s next item; a loop rather than recursion, since tasks may end synchronously. */
  private schedule(worker: Worker): void {
    this.ready.push(worker)
    if (this.draining) return
    this.draining = true
    let started = 0
    while (this.ready.length > 0) {
      if (started++ === startsPerTurn) {
        setImmediate(() => {
          const next = this.ready.pop()
          if (next !== undefined) this.schedule(next)
        })
        break
      }
      this.runNext(this.ready.pop()!)
    }
    this.draining = false
  }

  private runNext(worker: Worker): void {
    let item = this.queue.shift()
    // As `_WorkItem.run`: a future cancelled while queued is only notified, never run.
    while (item !== undefined && core.setRunningOrNotifyCancelUnsafe(item.future) !== true) item = this.queue.shift()
    if (item === undefined) {
      if (this.isShutdown) {
        this.workerCount--
        this.checkTerminated()
      } else {
        this.idle.push(worker)
      }
      return
    }
    const future = item.future
    const fiber = Effect.runForkWith(item.context)(this.program(worker, item))
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) {
      this.settle(future, exit, item.context)
      this.schedule(worker)
      return
    }
    this.running.add(fiber)
    future.interruptor = Fiber.interrupt(fiber)
    fiber.addObserver((exit) => {
      this.running.delete(fiber)
      this.settle(future, exit, item.context)
      this.schedule(worker)
    })
  }

  /**
   * The task's own `onExit` ends its future; this catches a fiber killed
   * before that could run (the runtime meeting a value that is not an
   * Effect), so no future stays RUNNING.
   */
  private settle(
    future: core.FutureImpl<unknown, unknown>,
    exit: Exit.Exit<unknown, unknown>,
    context: Context.Context<never>
  ): void {
    if (future.state !== "RUNNING") return
    future.interruptor = undefined
    const callbacks = core.completeUnsafe(future, exit)
    if (Array.isArray(callbacks)) Effect.runForkWith(context)(core.runCallbacks(future, callbacks))
  }

  private program(worker: Worker, item: WorkItem): Effect.Effect<void> {
    const future = item.future
    const task = Effect.onExit(item.effect as Effect.Effect<unknown, unknown>, (exit) =>
      Effect.suspend(() => {
        future.interruptor = undefined
        const callbacks = core.completeUnsafe(future, exit)
        return callbacks instanceof Error ? Effect.void : core.runCallbacks(future, callbacks)
      })
    )
    const body =
      worker.initialized || this.config.initializer === undefined
        ? task
        : Effect.matchCauseEffect(this.config.initializer, {
            onFailure: (cause) => this.initializerFailed(item, cause),
            onSuccess: () => {
              worker.initialized = true
              return task
            }
          })
    return body.pipe(
      Effect.annotateLogs("threadName", worker.name),
      Effect.annotateSpans("threadName", worker.name),
      Effect.ignore
    )
  }

  /** CPython's `_initializer_failed`: one reason, and every queued future fails with it. */
  private initializerFailed(item: WorkItem, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.suspend(() => {
      const error = Cause.squash(cause)
      this.broken ??= new BrokenExecutor({
        kind: "ThreadPool",
        reason: `A thread initializer failed, the thread pool is not usable anymore: ${error instanceof Error ? error.message : String(error)}`,
        cause: error
      })
      const failed = [item.future]
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) failed.push(next.future)
      const exit = Exit.fail(this.broken)
      const failAll = Effect.forEach(
        failed,
        (f) => {
          f.interruptor = undefined
          const callbacks = core.completeUnsafe(f, exit)
          return callbacks instanceof Error ? Effect.void : core.runCallbacks(f, callbacks)
        },
        { discard: true }
      )
      return Effect.andThen(Effect.logError("Exception in initializer:", cause), failAll)
    })
  }

  /** CPython's `shutdown(wait, cancel_futures)`. */
  shutdown(options: ShutdownOptions | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.isShutdown = true
      const cancelled: Array<core.FutureImpl<unknown, unknown>> = []
      if (options?.cancelFutures === true) {
        for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) cancelled.push(item.future)
      }
      // Idle workers will never be handed work again.
      this.workerCount -= this.idle.length
      this.idle.length = 0
      this.checkTerminated()
      const cancelAll = Effect.forEach(
        cancelled,
        (f) => {
          const callbacks = core.cancelUnsafe(f)
          // Nothing will ever pick these up, so tell `wait`/`asCompleted` now.
          core.setRunningOrNotifyCancelUnsafe(f)
          return core.runCallbacks(f, callbacks)
        },
        { discard: true }
      )
      return options?.wait === false ? cancelAll : Effect.andThen(cancelAll, Deferred.await(this.terminated))
    })
  }

  /** The scope's end: as `shutdown({ wait: true })`, but an interrupted scope also stops what runs. */
  close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    if (!Exit.hasInterrupts(exit)) return this.shutdown({ wait: true })
    return Effect.andThen(
      this.shutdown({ wait: false, cancelFutures: true }),
      Effect.andThen(
        Effect.suspend(() => Fiber.interruptAll(this.running)),
        Deferred.await(this.terminated)
      )
    )
  }

  private checkTerminated(): void {
    if (this.isShutdown && this.workerCount === 0 && this.pending === 0) {
      Deferred.doneUnsafe(this.terminated, Exit.void)
    }
  }
}
