/**
 * The thread pool, after CPython's `thread.py`, on the pool core (`executor/core.ts`): a FIFO
 * of work items, workers started lazily up to `maxWorkers`, idle workers reused before new
 * ones start, an initializer per worker whose failure breaks the pool. A worker here is a
 * slot, not a fiber. A call takes one of two ways, chosen by what the task returns:
 *
 * - a function or Task is called on its worker (at once inside `submit` when a worker is free
 *   and nothing waits ahead, else when the worker takes the item): a plain value ends it there;
 *   a Promise is awaited without a fiber (`awaitPromise`); an Effect runs in a fiber (`start`);
 * - an Effect task, a call with `submitWith`'s timeout or retries, and the first call of a
 *   worker whose initializer has not run, run in a fiber of their own (`start`), so
 *   `Future.interrupt` stops exactly that task.
 *
 * Every way ends in `ended` (or `endedNow` for a call that ended inside `submit`), after which
 * the same worker takes the next item.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { isPromiseLike } from "effect/Predicate"
import * as References from "effect/References"
import type { QueueFull } from "../Errors.ts"
import { isTask, type Task } from "../Task.ts"
import { type Closed, PoolCore } from "./executor/core.ts"
import { toEffect } from "./executor/task.ts"
import * as core from "./future/state.ts"
import type { ExecutorObserver, PoolGauges, TaskTrace } from "./observe.ts"
import type { Admission } from "./policy/admission.ts"
import { Attempts } from "./policy/attempt.ts"
import type { TaskPolicy } from "./policy/options.ts"
import { bindProgress } from "./progress.ts"
import { unwrap, unwrapAll } from "./transfer.ts"

interface WorkItem {
  readonly future: core.FutureImpl<unknown, unknown>
  /** What runs in the item's fiber; `undefined` for a `call` made without one. */
  effect: Effect.Effect<unknown, unknown, unknown> | undefined
  /** A function or Task and its arguments, called on the worker: a fiber only if it returns an Effect. */
  readonly call: { readonly task: unknown; readonly args: ReadonlyArray<unknown> } | undefined
  readonly context: Context.Context<never>
  /** When it was submitted (`performance.now()`), for the queue wait. */
  readonly submittedAt: number
  /** Its span's making, when the caller traces. */
  readonly trace: TaskTrace | undefined
}

/** A worker of the pool: a name and whether its initializer has run; tasks run in fibers of their own, one at a time per slot. */
interface Slot {
  readonly name: string
  initialized: boolean
  /** The last caller context seen, and how to start a fiber in it with `threadName` in log and span annotations. */
  callerContext: Context.Context<never> | undefined
  fork: Fork | undefined
}

type Fork = ReturnType<typeof Effect.runForkWith<never>>

/** Calls a function, or a Task with its progress going to `future` (which a Task always has), unwrapping what a Task returns. */
const callTask = (
  task: unknown,
  args: ReadonlyArray<unknown>,
  future: core.FutureImpl<unknown, unknown> | undefined,
  isTaskCall: boolean
) =>
  isTaskCall
    ? unwrap(
        bindProgress((task as Task<ReadonlyArray<unknown>, unknown, unknown>).fn, (value) =>
          core.reportProgress(future!, value)
        )(...unwrapAll(args, [])),
        []
      )
    : (task as Function)(...args)

/** Whether a call's outcome may be an Effect or a Promise: a cheap test first, for calls that return a plain value. */
const isObject = (u: unknown): boolean => (typeof u === "object" && u !== null) || typeof u === "function"

/** Task fibers started in one synchronous run before the rest wait a macrotask, so other fibers get a turn. */
const startsPerTurn = 1024

/** @internal */
export interface ThreadPoolConfig {
  readonly maxWorkers: number
  readonly threadNamePrefix: string
  readonly initializer: Effect.Effect<unknown, unknown> | undefined
  /** `maxQueue`: where submitters wait, or are refused, while the queue is full. */
  readonly admission: Admission | undefined
  readonly observer: ExecutorObserver
  /** Where the done callbacks of futures the pool gives up on run. */
  readonly context: Context.Context<never>
}

/** @internal */
export class ThreadPool extends PoolCore<WorkItem> {
  readonly config: ThreadPoolConfig
  private readonly idle: Array<Slot> = []
  private readonly ready: Array<Slot> = []
  private readonly running = new Set<Fiber.Fiber<unknown, unknown>>()
  /** Calls waiting on a Promise they returned, with no fiber: how to stop each waiting. */
  private readonly waiting = new Set<() => void>()
  private workerCount = 0
  private draining = false

  constructor(config: ThreadPoolConfig) {
    super("ThreadPool", config.observer, config.admission, config.context)
    this.config = config
  }

  /**
   * CPython's `submit`: checks broken, then shutdown, then queues and adjusts
   * the worker count. A plain function with a ready worker and nothing queued
   * ahead of it is called at once, as an idle thread would; only if it returns
   * an Effect or a Promise does it need a fiber. A task with a `policy`
   * (timeout, retries) always gets one.
   */
  submit(
    task: unknown,
    args: ReadonlyArray<unknown>,
    context: Context.Context<never>,
    policy?: TaskPolicy
  ): core.FutureImpl<unknown, unknown> | Closed | QueueFull | Admission {
    return this.accept(task, args, context, policy, true) as
      | core.FutureImpl<unknown, unknown>
      | Closed
      | QueueFull
      | Admission
  }

  /**
   * `submit` for a caller that only wants the outcome (`map`): a call that
   * ended at once gives its Exit, with no future made for it.
   */
  call(
    task: unknown,
    args: ReadonlyArray<unknown>,
    context: Context.Context<never>,
    policy?: TaskPolicy
  ): core.FutureImpl<unknown, unknown> | Exit.Exit<unknown, unknown> | Closed | QueueFull | Admission {
    return this.accept(task, args, context, policy, false)
  }

  /** `submit` and `call`: `wantsFuture` makes a future even for a call that ends at once. */
  private accept(
    task: unknown,
    args: ReadonlyArray<unknown>,
    context: Context.Context<never>,
    policy: TaskPolicy | undefined,
    wantsFuture: boolean
  ): core.FutureImpl<unknown, unknown> | Exit.Exit<unknown, unknown> | Closed | QueueFull | Admission {
    const refused = this.refuse(policy)
    if (refused !== undefined) return refused
    const isTaskCall = isTask(task)
    const callable = isTaskCall || typeof task === "function"
    if (this.queue.length === 0 && policy === undefined && callable) {
      const worker = this.readyWorker()
      if (worker !== undefined) return this.callNow(worker, task, args, context, isTaskCall, wantsFuture)
    }
    const full = this.admission?.admit(this.queue.length, this.idle.length + this.config.maxWorkers - this.workerCount)
    if (full !== undefined) return full
    const future = this.newFuture()
    const observer = this.observer
    const trace = observer.trace(context, task)
    const submittedAt = trace === undefined ? observer.stamp() : performance.now()
    if (policy === undefined && callable) {
      this.queue.push({ future, effect: undefined, call: { task, args }, context, submittedAt, trace })
    } else {
      // Only a Task reports progress.
      const effect = toEffect(task, args, isTaskCall ? (value) => core.reportProgress(future, value) : undefined)
      this.queue.push(
        {
          future,
          effect: policy === undefined ? effect : new Attempts(policy).run(effect),
          call: undefined,
          context,
          submittedAt,
          trace
        },
        policy?.priority
      )
    }
    this.adjust()
    return future
  }

  /** A running future for a call made inside submit, counted as submitted already. */
  private runningFuture(): core.FutureImpl<unknown, unknown> {
    const future = new core.FutureImpl<unknown, unknown>(this.owner)
    core.setRunningOrNotifyCancelUnsafe(future)
    return future
  }

  /** An idle worker whose initializer has run, or a new one if it needs none. */
  private readyWorker(): Slot | undefined {
    const idle = this.idle[this.idle.length - 1]
    // An idle worker may never have run its initializer (its first item was cancelled):
    // it must go the queued way, which runs the initializer first.
    if (idle !== undefined)
      return idle.initialized || this.config.initializer === undefined ? this.idle.pop() : undefined
    if (this.workerCount < this.config.maxWorkers && this.config.initializer === undefined) {
      return this.newWorker(true)
    }
    return undefined
  }

  private newWorker(initialized: boolean): Slot {
    const name = `${this.config.threadNamePrefix}_${this.workerCount++}`
    return { name, initialized, callerContext: undefined, fork: undefined }
  }

  /**
   * Starts fibers in the caller's context as this worker sees it: with `threadName` in log and
   * span annotations. Kept for the last caller context, since one caller usually submits many.
   */
  private forkIn(worker: Slot, context: Context.Context<never>): Fork {
    if (worker.callerContext === context) return worker.fork!
    const withName = (ref: Context.Reference<Readonly<Record<string, unknown>>>, ctx: Context.Context<never>) =>
      Context.add(ctx, ref, { ...Context.get(ctx, ref), threadName: worker.name })
    worker.callerContext = context
    worker.fork = Effect.runForkWith(
      withName(References.TracerSpanAnnotations, withName(References.CurrentLogAnnotations, context))
    )
    return worker.fork
  }

  /**
   * Calls the task now, on `worker`. It ran inside `submit`, so its queue wait is 0 and its run
   * time is not recorded: two clock reads would cost more than the call's bookkeeping. A future
   * is made before the end only when someone may look at it before then: a Task (its progress),
   * or a call that returned an Effect (run in a fiber) or a Promise (awaited); `submit`
   * (`wantsFuture`) gets one made ended for any other call.
   */
  private callNow(
    worker: Slot,
    task: unknown,
    args: ReadonlyArray<unknown>,
    context: Context.Context<never>,
    isTaskCall: boolean,
    wantsFuture: boolean
  ): core.FutureImpl<unknown, unknown> | Exit.Exit<unknown, unknown> {
    const observer = this.observer
    observer.submitted++
    observer.queueWait.zeros++
    const trace = observer.trace(context, task)
    if (trace !== undefined) observer.startSpan(trace, worker.name, 0)
    let future: core.FutureImpl<unknown, unknown> | undefined
    let out: unknown
    try {
      if (isTaskCall) future = this.runningFuture()
      out = callTask(task, args, future, isTaskCall)
    } catch (error) {
      return this.endedNow(Exit.die(error), worker, future, trace, wantsFuture)
    }
    if (isObject(out) && (Effect.isEffect(out) || isPromiseLike(out))) {
      future ??= this.runningFuture()
      const startedAt = performance.now()
      this.run(
        worker,
        { future, effect: undefined, call: undefined, context, submittedAt: startedAt, trace },
        startedAt,
        out,
        isTaskCall
      )
      return future
    }
    return this.endedNow(Exit.succeed(out), worker, future, trace, wantsFuture)
  }

  /**
   * A call that returned a Promise needs no fiber: the worker waits for the Promise, and
   * `Future.interrupt` (or an interrupted scope) stops the waiting, as interrupting a fiber
   * blocked on a Promise would; the Promise itself runs on, since nothing can stop it.
   */
  private awaitPromise(
    worker: Slot,
    item: WorkItem,
    startedAt: number,
    promise: PromiseLike<unknown>,
    isTask: boolean
  ): void {
    let waiting = true
    const end = (exit: Exit.Exit<unknown, unknown>): void => {
      if (!waiting) return
      waiting = false
      this.waiting.delete(abandon)
      this.ended(worker, item, startedAt, exit)
    }
    const abandon = () => end(Exit.interrupt())
    this.waiting.add(abandon)
    item.future.interruptor = Effect.sync(abandon)
    promise.then(
      (value) => end(Exit.succeed(isTask ? unwrap(value, []) : value)),
      (error) => end(Exit.die(error))
    )
  }

  /**
   * A direct call's end: its future's end counts the outcome, or, with no future, the call's.
   * Nobody holds its future yet, if it has one, so there are no callbacks or waiters to tell;
   * `submit`'s future (`wantsFuture`) is made ended.
   */
  private endedNow(
    exit: Exit.Exit<unknown, unknown>,
    worker: Slot,
    future: core.FutureImpl<unknown, unknown> | undefined,
    trace: TaskTrace | undefined,
    wantsFuture: boolean
  ): core.FutureImpl<unknown, unknown> | Exit.Exit<unknown, unknown> {
    if (trace !== undefined) this.observer.endSpan(trace, exit)
    if (future !== undefined) core.completeUnsafe(future, exit)
    else if (wantsFuture) future = core.endedUnsafe(this.owner, exit)
    else if (Exit.isSuccess(exit)) this.observer.success++
    else this.observer.defect++
    this.release(worker)
    return future ?? exit
  }

  private release(worker: Slot): void {
    if (this.queue.length === 0 && !this.isShutdown) this.makeIdle(worker)
    else this.schedule(worker)
  }

  /** The worker waits for work; a submitter waiting for room (`maxQueue`) may now come in. */
  private makeIdle(worker: Slot): void {
    this.idle.push(worker)
    this.admission?.freed(1)
  }

  protected pending(): number {
    return this.queue.length
  }

  protected windDown(): boolean {
    return this.workerCount === 0
  }

  /** What the gauges read: queued tasks, workers running one, idle workers. */
  gauges(): PoolGauges {
    return {
      queueDepth: () => this.queue.length,
      busy: () => this.workerCount - this.idle.length,
      idle: () => this.idle.length
    }
  }

  /** CPython's `_adjust_thread_count`: wake an idle worker, or start one while under `maxWorkers`. */
  private adjust(): void {
    const worker = this.idle.pop()
    if (worker !== undefined) {
      this.schedule(worker)
      return
    }
    if (this.workerCount < this.config.maxWorkers) {
      this.schedule(this.newWorker(false))
    }
  }

  /** Runs `worker`'s next item; a loop rather than recursion, since tasks may end synchronously. */
  private schedule(worker: Slot): void {
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

  private runNext(worker: Slot): void {
    const before = this.queue.length
    let item = this.queue.shift()
    // As `_WorkItem.run`: a future cancelled while queued is only notified, never run.
    while (item !== undefined && core.setRunningOrNotifyCancelUnsafe(item.future) !== true) item = this.queue.shift()
    if (this.admission !== undefined && before > this.queue.length) this.admission.freed(before - this.queue.length)
    if (item === undefined) {
      if (this.isShutdown) {
        this.workerCount--
        this.checkTerminated()
      } else {
        this.makeIdle(worker)
      }
      return
    }
    const startedAt = performance.now()
    this.observer.queueWait.record(startedAt - item.submittedAt)
    const call = item.call
    if (call !== undefined) {
      // A worker whose initializer has not run yet runs it first, in the item's fiber.
      if (worker.initialized || this.config.initializer === undefined) {
        this.callQueued(worker, item, call.task, call.args, startedAt)
        return
      }
      item.effect = toEffect(call.task, call.args, (value) => core.reportProgress(item.future, value))
    }
    this.start(worker, item, startedAt)
  }

  /** A queued function or Task, called on `worker` as `callNow` does; its future is RUNNING already. */
  private callQueued(
    worker: Slot,
    item: WorkItem,
    task: unknown,
    args: ReadonlyArray<unknown>,
    startedAt: number
  ): void {
    const future = item.future
    if (item.trace !== undefined) this.observer.startSpan(item.trace, worker.name, startedAt - item.submittedAt)
    const isTaskCall = isTask(task)
    let out: unknown
    try {
      out = callTask(task, args, future, isTaskCall)
    } catch (error) {
      this.ended(worker, item, startedAt, Exit.die(error))
      return
    }
    if (isObject(out) && (Effect.isEffect(out) || isPromiseLike(out)))
      this.run(worker, item, startedAt, out, isTaskCall)
    else this.ended(worker, item, startedAt, Exit.succeed(out))
  }

  /** What a called function or Task returned, an Effect or a Promise, run to its end on `worker`. */
  private run(worker: Slot, item: WorkItem, startedAt: number, out: unknown, isTaskCall: boolean): void {
    if (Effect.isEffect(out)) {
      item.effect = isTaskCall ? Effect.map(out, (value) => unwrap(value, [])) : out
      this.start(worker, item, startedAt)
    } else {
      this.awaitPromise(worker, item, startedAt, out as PromiseLike<unknown>, isTaskCall)
    }
  }

  /**
   * Runs the item in a fiber of its own; the fiber's end completes the future. Done callbacks
   * run in a fiber of the same context, and the worker takes its next item once they have
   * run, as a thread runs the callbacks of the future it completed before its next item.
   */
  private start(worker: Slot, item: WorkItem, startedAt: number): void {
    const fiber = this.forkIn(worker, item.context)(this.program(worker, item))
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) {
      this.ended(worker, item, startedAt, exit)
      return
    }
    this.running.add(fiber)
    item.future.interruptor = Fiber.interrupt(fiber)
    fiber.addObserver((exit) => {
      this.running.delete(fiber)
      this.ended(worker, item, startedAt, exit)
    })
  }

  private ended(worker: Slot, item: WorkItem, startedAt: number, exit: Exit.Exit<unknown, unknown>): void {
    const future = item.future
    future.interruptor = undefined
    // The task span's end, if the fiber ended before the span could.
    if (item.trace !== undefined) this.observer.endSpan(item.trace, exit)
    // A future that is no longer running was ended by the pool: its initializer failed.
    if (future.state === "RUNNING") {
      this.observer.runTime.record(performance.now() - startedAt)
      if (core.completeUnsafe(future, exit) && core.hasCallbacks(future)) {
        const fiber = this.forkIn(worker, item.context)(core.doneCallbacks(future))
        if (fiber.pollUnsafe() === undefined) {
          fiber.addObserver(() => this.schedule(worker))
          return
        }
      }
    }
    this.schedule(worker)
  }

  private program(worker: Slot, item: WorkItem): Effect.Effect<unknown, unknown> {
    const trace = item.trace
    const effect =
      trace === undefined
        ? (item.effect as Effect.Effect<unknown, unknown>)
        : this.observer.inSpan(
            item.effect as Effect.Effect<unknown, unknown>,
            trace,
            worker.name,
            () => performance.now() - item.submittedAt
          )
    if (worker.initialized || this.config.initializer === undefined) return effect
    return Effect.matchCauseEffect(this.config.initializer, {
      onFailure: (cause) => this.initializerFailed(item, cause),
      onSuccess: () => {
        worker.initialized = true
        return effect
      }
    })
  }

  /** CPython's `_initializer_failed`: the pool breaks, and this item and every queued one fail with its reason. */
  private initializerFailed(item: WorkItem, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Effect.suspend(() => {
      const error = Cause.squash(cause)
      const broken = this.break(
        `A thread initializer failed, the thread pool is not usable anymore: ${error instanceof Error ? error.message : String(error)}`,
        error
      )
      item.future.interruptor = undefined
      const callbacks = core.endUnsafe(item.future, Exit.fail(broken)) ? core.doneCallbacks(item.future) : Effect.void
      return Effect.andThen(Effect.logError("Exception in initializer:", cause), callbacks)
    })
  }

  /** Queued calls fail with `exit`; those running go on, as CPython's threads finish their work items. */
  protected abandon(exit: Exit.Exit<never, unknown>): void {
    for (const item of this.queue.drain()) this.end(item.future, exit)
  }

  /** Idle workers will never be handed work again. */
  protected override onShutdown(): void {
    this.workerCount -= this.idle.length
    this.idle.length = 0
  }

  /** Running tasks are interrupted; calls waiting on a Promise stop waiting. */
  protected interruptRunning(): Effect.Effect<void> {
    for (const abandon of this.waiting) abandon()
    return Fiber.interruptAll(this.running)
  }
}
