/**
 * The worker pools' machinery, after CPython's `process.py`: a queue of
 * pending calls, workers spawned lazily up to `maxWorkers`, idle ones reused,
 * `maxTasksPerChild` replacement, and a pool that breaks, failing every
 * running and pending future at once, when a worker dies. Calls move to a
 * worker in batches, so many tiny tasks cost one message each way per batch.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { BrokenExecutor, ExecutionFailed, ExecutorShutdownError, type SerializationError } from "../Errors.ts"
import type { ShutdownOptions } from "../Executor.ts"
import type { Task } from "../Task.ts"
import { Fifo } from "./fifo.ts"
import * as core from "./futureState.ts"
import type { ExecutorObserver, PoolGauges, TaskTrace } from "./observe.ts"
import type { Spawn, WorkerHandle } from "./platform.ts"
import { type Call, decodeDefect, decodeExit, type FromWorker, unclonable } from "./protocol.ts"
import { unwrapAll } from "./transfer.ts"

type AnyTask = Task<ReadonlyArray<unknown>, unknown, unknown>
type Transferable = Parameters<WorkerHandle["send"]>[1] extends ReadonlyArray<infer T> | undefined ? T : never

interface WorkItem {
  readonly id: number
  readonly future: core.FutureImpl<unknown, unknown>
  readonly task: AnyTask
  readonly args: ReadonlyArray<unknown>
  readonly chunk: boolean
  worker: PoolWorker | undefined
  /** When it was submitted and when last sent to a worker (`performance.now()`; -1: not sent). */
  readonly submittedAt: number
  sentAt: number
  /** Its span's making, when the caller traces. */
  readonly trace: TaskTrace | undefined
}

interface PoolWorker {
  readonly handle: WorkerHandle
  /** Calls sent and not yet answered, in the order sent. */
  readonly items: Map<number, WorkItem>
  sent: number
  /** When it last answered, or started on calls after being idle. */
  since: number
  /** No more calls: `maxTasksPerChild` reached, or being replaced. */
  retiring: boolean
  /** Its exit is expected (asked to stop, or killed by the pool). */
  stopping: boolean
}

/** Calls per message when the queue is deep; a worker holds at most two such batches. */
const batchSize = 64

/** The work, in milliseconds, a batch of tiny calls should hold. */
const batchMillis = 2

/** How long a worker may take to exit after being asked before it is killed. */
const stopGraceMillis = 5_000

/** @internal */
export interface WorkerPoolConfig {
  readonly kind: "InterpreterPool" | "ProcessPool"
  readonly maxWorkers: number
  readonly spawn: Spawn
  readonly initializer:
    | { readonly module: string; readonly name: string; readonly args: ReadonlyArray<unknown> }
    | undefined
  readonly maxTasksPerChild: number | undefined
  /** How long an interrupted task may take to stop before its worker is replaced. */
  readonly interruptGraceMillis: number
  /** Where done callbacks that return Effects run. */
  readonly context: Context.Context<never>
  readonly observer: ExecutorObserver
}

let nextCallId = 0

const lostWithWorker = (): ExecutionFailed =>
  new ExecutionFailed({
    name: "WorkerReplaced",
    message:
      "the call ran in a worker that was replaced before it sent the result: " +
      "a task interrupted there did not stop within interruptGrace"
  })

/** @internal */
export class WorkerPool {
  readonly config: WorkerPoolConfig
  private readonly queue = new Fifo<WorkItem>()
  /** Calls taken back from a replaced worker before they started; they go first and are already RUNNING. */
  private readonly requeued = new Fifo<WorkItem>()
  private readonly workers = new Set<PoolWorker>()
  private dispatchScheduled = false
  /** What a call costs a worker, on average lately; `undefined` until a reply came. */
  private millisPerCall: number | undefined = undefined
  private isShutdown = false
  private broken: BrokenExecutor | undefined = undefined
  private readonly terminated = Deferred.makeUnsafe<void>()

  constructor(config: WorkerPoolConfig) {
    this.config = config
  }

  private get word(): string {
    return this.config.kind === "ProcessPool" ? "process" : "thread"
  }

  submit(
    task: AnyTask,
    args: ReadonlyArray<unknown>,
    chunk: boolean,
    context?: Context.Context<never>
  ): core.FutureImpl<unknown, unknown> | BrokenExecutor | ExecutorShutdownError {
    if (this.broken !== undefined) return this.broken
    if (this.isShutdown) {
      return new ExecutorShutdownError({ message: "cannot schedule new futures after shutdown" })
    }
    const future = new core.FutureImpl<unknown, unknown>()
    const observer = this.config.observer
    future.onEnd = observer.onEnd
    observer.submitted++
    const trace = observer.trace(context, task)
    const submittedAt = trace === undefined ? observer.stamp() : performance.now()
    this.queue.push({ id: ++nextCallId, future, task, args, chunk, worker: undefined, submittedAt, sentAt: -1, trace })
    // The first call of a burst goes at once, to an idle worker if there is one; the rest of
    // the burst waits for the submitting fiber to yield, to leave in batches.
    if (this.queue.length === 1) this.dispatch()
    else this.scheduleDispatch()
    return future
  }

  /** Dispatch once the submitting fiber yields, so a burst of submits leaves in few messages. */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return
    this.dispatchScheduled = true
    queueMicrotask(() => {
      this.dispatchScheduled = false
      this.dispatch()
    })
  }

  /** What the gauges read: calls not yet sent, workers holding calls, live workers holding none. */
  gauges(): PoolGauges {
    const count = (busy: boolean) => {
      let n = 0
      for (const w of this.workers) if (busy ? w.items.size > 0 : w.items.size === 0 && !w.retiring) n++
      return n
    }
    return { queueDepth: () => this.pending(), busy: () => count(true), idle: () => count(false) }
  }

  private liveWorkers(): number {
    let n = 0
    for (const w of this.workers) if (!w.retiring) n++
    return n
  }

  private pending(): number {
    return this.queue.length + this.requeued.length
  }

  /** The worker to send to, spawning one while under `maxWorkers` and every live worker is busy. */
  private pick(): PoolWorker | undefined {
    let best: PoolWorker | undefined
    for (const w of this.workers) {
      if (!w.retiring && (best === undefined || w.items.size < best.items.size)) best = w
    }
    if ((best === undefined || best.items.size > 0) && this.liveWorkers() < this.config.maxWorkers) {
      best = this.spawn() ?? best
    }
    return best
  }

  /**
   * Calls a worker may hold at once. Slow calls go one at a time, so they spread over every
   * worker as Python's shared call queue spreads them; tiny calls go in batches worth about
   * `batchMillis` of work, since then the message, not the call, is the cost. Never more
   * than a quarter of a worker's fair share of the queue, so an estimate made on other calls
   * cannot tie up the rest; one at a time until a call's cost is known.
   */
  private capacity(): number {
    const cost = this.millisPerCall
    if (cost === undefined) return 1
    const byCost = Math.max(1, Math.min(2 * batchSize, Math.floor(batchMillis / cost)))
    return Math.min(byCost, Math.max(1, Math.ceil(this.pending() / (4 * this.config.maxWorkers))))
  }

  /** Learns what a call costs from a batch of replies: the time since the worker last answered or started. */
  private measure(worker: PoolWorker, replies: number): void {
    const now = performance.now()
    const sample = (now - worker.since) / replies
    worker.since = now
    this.millisPerCall = this.millisPerCall === undefined ? sample : this.millisPerCall * 0.8 + sample * 0.2
  }

  private dispatch(): void {
    while (this.broken === undefined && this.pending() > 0) {
      const worker = this.pick()
      if (worker === undefined) return
      let room = Math.min(batchSize, this.capacity() - worker.items.size)
      if (this.config.maxTasksPerChild !== undefined) room = Math.min(room, this.config.maxTasksPerChild - worker.sent)
      if (room <= 0) return
      const batch: Array<WorkItem> = []
      while (batch.length < room) {
        const item = this.requeued.shift() ?? this.queue.shift()
        if (item === undefined) break
        // As `_ExecutorManagerThread.add_call_item_to_queue`: a cancelled call is only notified.
        if (item.future.state === "PENDING" || item.future.state === "CANCELLED") {
          if (!core.setRunningOrNotifyCancelUnsafe(item.future)) continue
          item.future.interruptor = this.interruptor(item)
        }
        batch.push(item)
      }
      if (batch.length > 0) this.send(worker, batch)
    }
  }

  private send(worker: PoolWorker, batch: ReadonlyArray<WorkItem>): void {
    const now = performance.now()
    const observer = this.config.observer
    for (const item of batch) {
      // A call taken back from a replaced worker waited once already.
      if (item.sentAt < 0) observer.queueWait.record(now - item.submittedAt)
      item.sentAt = now
      if (item.trace !== undefined) observer.startSpan(item.trace, worker.handle.id, now - item.submittedAt)
    }
    const transfer: Array<Transferable> = []
    const calls = batch.map((item) => this.call(item, transfer))
    if (worker.items.size === 0) worker.since = now
    for (const item of batch) {
      item.worker = worker
      worker.items.set(item.id, item)
    }
    worker.sent += batch.length
    if (this.config.maxTasksPerChild !== undefined && worker.sent >= this.config.maxTasksPerChild) {
      worker.retiring = true
    }
    try {
      worker.handle.send({ _tag: "Run", calls }, transfer)
    } catch {
      // Find the calls that cannot be cloned: send one by one, and fail only those.
      for (let i = 0; i < batch.length; i++) {
        const one: Array<Transferable> = []
        const call = this.call(batch[i], one)
        try {
          worker.handle.send({ _tag: "Run", calls: [call] }, one)
        } catch (error) {
          this.failArgument(batch[i], error)
        }
      }
    }
  }

  private call(item: WorkItem, transfer: Array<Transferable>): Call {
    const args = item.chunk
      ? item.args.map((a) => unwrapAll(a as ReadonlyArray<unknown>, transfer))
      : unwrapAll(item.args, transfer)
    const call: Call = { id: item.id, module: item.task.module, name: item.task.name, args, chunk: item.chunk }
    const trace = item.trace?.parent()
    return trace === undefined ? call : { ...call, trace }
  }

  private failArgument(item: WorkItem, cause: unknown): void {
    item.worker?.items.delete(item.id)
    item.sentAt = -1
    const args = item.chunk ? item.args.flat() : item.args
    const index = args.findIndex((a) => {
      try {
        structuredClone(a)
        return false
      } catch {
        return true
      }
    })
    const error: SerializationError = unclonable(
      "argument",
      index >= 0 ? args[index] : args,
      index >= 0 ? `argument ${index + 1}` : "arguments",
      cause
    )
    this.complete(item, Exit.fail(error))
  }

  /** Ends the call's future; `now`, when the caller has read the clock, for the run time. */
  private complete(item: WorkItem, exit: Exit.Exit<unknown, unknown>, now?: number): void {
    const observer = this.config.observer
    if (item.sentAt >= 0) {
      observer.runTime.record((now ?? performance.now()) - item.sentAt)
      item.sentAt = -1
    }
    if (item.trace !== undefined) observer.endSpan(item.trace, exit)
    const future = item.future
    future.interruptor = undefined
    const callbacks = core.completeUnsafe(future, exit)
    if (Array.isArray(callbacks) && callbacks.length > 0) {
      Effect.runForkWith(this.config.context)(core.runCallbacks(future, callbacks))
    }
  }

  private spawn(): PoolWorker | undefined {
    let handle: WorkerHandle
    try {
      handle = this.config.spawn()
    } catch (cause) {
      this.breakPool(`a worker ${this.word} could not be started: ${String(cause)}`, cause)
      return undefined
    }
    const worker: PoolWorker = { handle, items: new Map(), sent: 0, since: 0, retiring: false, stopping: false }
    this.workers.add(worker)
    handle.onMessage((message) => this.onMessage(worker, message))
    handle.onExit((code, signal, error) => this.onExit(worker, code, signal, error))
    const init = this.config.initializer
    if (init !== undefined) {
      try {
        handle.send({ _tag: "Init", module: init.module, name: init.name, args: init.args })
      } catch (cause) {
        this.breakPool("the initializer's arguments cannot be sent to a worker", cause)
      }
    }
    return worker
  }

  private onMessage(worker: PoolWorker, message: FromWorker): void {
    if (message._tag === "Dying") {
      const cause = message.defect === undefined ? undefined : decodeDefect(message.defect)
      this.died(worker, message.how, cause)
      return
    }
    if (message._tag === "InitFailed") {
      const cause = decodeDefect(message.defect)
      this.breakPool(
        `A ${this.word} initializer failed, the pool is not usable anymore: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause
      )
      return
    }
    this.measure(worker, message.replies.length)
    // `measure` just read the clock into `since`.
    const now = worker.since
    for (const reply of message.replies) {
      const item = worker.items.get(reply.id)
      if (item === undefined) continue
      worker.items.delete(reply.id)
      if (reply.spans !== undefined && item.trace !== undefined) this.config.observer.replay(item.trace, reply.spans)
      this.complete(item, decodeExit(item.task, reply.exit), now)
    }
    if (worker.items.size === 0 && (worker.retiring || (this.isShutdown && this.pending() === 0))) {
      this.stop(worker)
    }
    if (this.pending() > 0) this.dispatch()
    this.checkTerminated()
  }

  private onExit(worker: PoolWorker, code: number | null, signal: NodeJS.Signals | null, error: unknown): void {
    if (worker.stopping) {
      this.workers.delete(worker)
      // Replaced: what it held had not started, so it runs elsewhere.
      for (const item of worker.items.values()) this.requeued.push(item)
      worker.items.clear()
      if (this.pending() > 0) this.scheduleDispatch()
      this.checkTerminated()
      return
    }
    this.died(worker, signal !== null ? `was killed by signal ${signal}` : `exited with code ${code}`, error)
    this.workers.delete(worker)
    this.checkTerminated()
  }

  private died(worker: PoolWorker, how: string, cause: unknown): void {
    if (worker.stopping) return
    const detail = cause instanceof Error ? `: ${cause.name}: ${cause.message}` : ""
    this.breakPool(
      `A ${this.word} in the pool terminated abruptly while the future was running or pending (${this.word} ${worker.handle.id} ${how}${detail})`,
      cause
    )
  }

  /** CPython's `_terminate_broken`: one reason; every running and pending future fails with it; workers go. */
  private breakPool(reason: string, cause: unknown): void {
    if (this.broken !== undefined) return
    this.broken = new BrokenExecutor({ kind: this.config.kind, reason, ...(cause === undefined ? {} : { cause }) })
    const exit = Exit.fail(this.broken)
    for (const worker of this.workers) {
      for (const item of worker.items.values()) this.complete(item, exit)
      worker.items.clear()
      worker.stopping = true
      worker.handle.kill()
    }
    for (const item of this.requeued.drain()) this.complete(item, exit)
    for (const item of this.queue.drain()) this.complete(item, exit)
    this.checkTerminated()
  }

  private stop(worker: PoolWorker): void {
    if (worker.stopping) return
    worker.stopping = true
    worker.retiring = true
    try {
      worker.handle.send({ _tag: "Stop" })
    } catch {
      worker.handle.kill()
    }
    setTimeout(() => {
      if (this.workers.has(worker)) worker.handle.kill()
    }, stopGraceMillis).unref()
  }

  /** `Future.interrupt` for a call sent to a worker: abort, then replace the worker if it does not stop in time. */
  private interruptor(item: WorkItem): Effect.Effect<void> {
    return Effect.suspend(() => {
      const worker = item.worker
      if (core.isDone(item.future) || worker === undefined) return Effect.void
      try {
        worker.handle.send({ _tag: "Abort", id: item.id })
      } catch {
        // The worker is gone; its exit settles the future.
      }
      return core.awaitDone(item.future).pipe(
        Effect.timeoutOption(this.config.interruptGraceMillis),
        Effect.flatMap((done) =>
          Option.isSome(done)
            ? Effect.void
            : Effect.sync(() => {
                if (core.isDone(item.future) || !worker.items.has(item.id)) return
                // A worker runs its calls in the order sent: those before this one have run, and
                // their replies may go down with the worker; those after it go to another worker.
                for (const [id, earlier] of worker.items) {
                  if (id === item.id) break
                  worker.items.delete(id)
                  this.complete(earlier, Exit.fail(lostWithWorker()))
                }
                worker.items.delete(item.id)
                this.complete(item, Exit.interrupt())
                this.stop(worker)
                worker.handle.kill()
              })
        )
      )
    })
  }

  shutdown(options: ShutdownOptions | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.isShutdown = true
      const callbacks: Array<Effect.Effect<void>> = []
      if (options?.cancelFutures === true) {
        for (const item of this.queue.drain()) {
          const out = core.cancelUnsafe(item.future)
          core.setRunningOrNotifyCancelUnsafe(item.future)
          callbacks.push(core.runCallbacks(item.future, out))
        }
      }
      this.checkTerminated()
      const cancelAll = Effect.all(callbacks, { discard: true })
      return options?.wait === false ? cancelAll : Effect.andThen(cancelAll, Deferred.await(this.terminated))
    })
  }

  /** Python 3.14's `terminate_workers()` / `kill_workers()`: shut down, cancel pending, stop every worker now. */
  forceShutdown(signal: NodeJS.Signals, name: string): Effect.Effect<void> {
    return Effect.andThen(
      this.shutdown({ wait: false, cancelFutures: true }),
      Effect.suspend(() => {
        const exit = Exit.fail(
          new BrokenExecutor({ kind: this.config.kind, reason: `the workers were stopped by ${name}()` })
        )
        for (const worker of this.workers) {
          for (const item of worker.items.values()) this.complete(item, exit)
          worker.items.clear()
          worker.stopping = true
          worker.handle.kill(signal)
        }
        this.checkTerminated()
        return Deferred.await(this.terminated)
      })
    )
  }

  /** The scope's end: `shutdown({ wait: true })`; an interrupted scope stops running calls as well. */
  close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    if (!Exit.hasInterrupts(exit)) return this.shutdown({ wait: true })
    return Effect.andThen(
      this.shutdown({ wait: false, cancelFutures: true }),
      Effect.suspend(() => {
        for (const worker of this.workers) {
          for (const item of worker.items.values()) this.complete(item, Exit.interrupt())
          worker.items.clear()
          worker.stopping = true
          worker.handle.kill()
        }
        for (const item of this.requeued.drain()) this.complete(item, Exit.interrupt())
        this.checkTerminated()
        return Deferred.await(this.terminated)
      })
    )
  }

  private checkTerminated(): void {
    if (!this.isShutdown || this.pending() > 0) return
    // Shut down with nothing left to send: workers without calls are done (those with calls stop
    // when their last reply comes).
    for (const worker of this.workers) if (worker.items.size === 0) this.stop(worker)
    if (this.workers.size === 0) {
      Deferred.doneUnsafe(this.terminated, Exit.void)
    }
  }
}
