/**
 * The worker pools' machinery, after CPython's `process.py`: a queue of
 * pending calls, workers spawned lazily up to `maxWorkers`, idle ones reused,
 * `maxTasksPerChild` replacement, and a pool that breaks, failing every
 * running and pending future at once, when a worker dies. Calls move to a
 * worker in batches, so many tiny tasks cost one message each way per batch.
 * Beyond Python: a pool may instead replace a dead worker (`onWorkerDeath`),
 * shrink when idle (`idleTimeout`, `minWorkers`) and retire workers that use
 * too much memory (`maxMemoryPerWorker`).
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { BrokenExecutor, type SerializationError } from "../../Errors.ts"
import { type NewCall, SendingPool } from "../executor/core.ts"
import { partialChunks } from "../executor/map.ts"
import { Fifo, SentCalls } from "../fifo.ts"
import * as core from "../future/state.ts"
import type { ExecutorObserver, PoolGauges } from "../observe.ts"
import type { Spawn, WorkerHandle } from "../platform.ts"
import type { Admission } from "../policy/admission.ts"
import { Attempts } from "../policy/attempt.ts"
import { type Call, decodeDefect, decodeExit, type FromWorker, messagesApart, unclonable } from "../protocol.ts"
import { movedBytes, unwrapAll } from "../transfer.ts"
import { Balancer } from "./balancer.ts"
import { abandonedWarning, brokenByDeath, type Death, diedRunning, killLater, lostWithWorker } from "./faults.ts"
import { IdleShrink, live } from "./idle.ts"
import { type AnyTask, type PoolWorker, type WorkItem, workerNoun } from "./worker.ts"

type Transferable = Parameters<WorkerHandle["send"]>[1] extends ReadonlyArray<infer T> | undefined ? T : never

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
  /** What a worker's unexpected death does: break the pool (Python's way), or fail only its call and replace it. */
  readonly onWorkerDeath: "break" | "replace"
  /** How long a worker may take to exit after being asked before it is killed. */
  readonly terminateGraceMillis: number
  /** Workers idle this long exit, down to `minWorkers`; `undefined`: never. */
  readonly idleTimeoutMillis: number | undefined
  /** Workers started with the pool and kept through idle shrink. */
  readonly minWorkers: number
  /** A worker reporting more memory than this (bytes) is retired between calls; `undefined`: no limit. */
  readonly maxMemoryBytes: number | undefined
  /** Where done callbacks that return Effects run. */
  readonly context: Context.Context<never>
  /** `maxQueue`: where submitters wait, or are refused, while the queue is full. */
  readonly admission: Admission | undefined
  readonly observer: ExecutorObserver
}

let nextCallId = 0

/** @internal */
export class WorkerPool extends SendingPool<WorkItem> {
  readonly config: WorkerPoolConfig
  /** Calls between two attempts (`retries`): running, though on no worker and in no queue. */
  private readonly retryWaits = new Set<WorkItem>()
  /** Calls taken back from a replaced worker before they started; they go first and are already RUNNING. */
  private readonly requeued = new Fifo<WorkItem>()
  private readonly workers = new Set<PoolWorker>()
  private dispatchScheduled = false
  private readonly balancer = new Balancer()
  /** `idleTimeout`: shrinks the pool down to `minWorkers`. */
  private readonly idle: IdleShrink | undefined
  /** A worker in messages: a thread or a process. */
  private readonly noun: string
  /** `prestart`: the workers it waits for (those that have not said `Ready`), and its wake-up. */
  private starting: { readonly workers: Set<PoolWorker>; readonly wake: () => void } | undefined = undefined

  constructor(config: WorkerPoolConfig) {
    super(config.kind, config.observer, config.admission, config.context)
    this.config = config
    this.noun = workerNoun(config.kind)
    this.idle =
      config.idleTimeoutMillis === undefined
        ? undefined
        : new IdleShrink(
            this.workers,
            config.idleTimeoutMillis,
            config.minWorkers,
            () => !this.isShutdown && this.broken === undefined,
            (worker) => this.stop(worker)
          )
  }

  /** Starts the `minWorkers` workers. */
  start(): void {
    for (let i = 0; i < this.config.minWorkers && this.broken === undefined; i++) this.spawn()
  }

  /**
   * `prestart`: starts workers up to `count`, all at once, and waits until each has started and
   * run its initializer. A worker that cannot (its spawn fails, it exits, its initializer fails)
   * breaks the pool, whatever `onWorkerDeath` says, and the Effect fails with that `BrokenExecutor`.
   */
  prestart(count: number): Effect.Effect<void, BrokenExecutor> {
    return Effect.callback<void, BrokenExecutor>((resume) => {
      const workers = new Set<PoolWorker>()
      const wake = (): void => {
        if (this.broken !== undefined) resume(Effect.fail(this.broken))
        else if (workers.size === 0) resume(Effect.void)
        else return
        this.starting = undefined
      }
      this.starting = { workers, wake }
      const ping = (worker: PoolWorker): void => {
        workers.add(worker)
        try {
          worker.handle.send({ _tag: "Ping" })
        } catch (cause) {
          this.break(`a worker ${this.noun} could not be reached as it started: ${String(cause)}`, cause)
        }
      }
      for (const worker of this.workers) if (!worker.stopping) ping(worker)
      while (this.broken === undefined && live(this.workers) < count) {
        const worker = this.spawn()
        if (worker !== undefined) ping(worker)
      }
      wake()
      return Effect.sync(() => {
        this.starting = undefined
      })
    })
  }

  /** The call queued, then dispatched. */
  protected queueCall(
    future: core.FutureImpl<unknown, unknown>,
    { args, chunk, context, policy, task }: NewCall
  ): void {
    const observer = this.observer
    const trace = observer.trace(context, task)
    const submittedAt = trace === undefined ? observer.stamp() : performance.now()
    this.queue.push(
      {
        id: ++nextCallId,
        future,
        task: task as AnyTask,
        args,
        chunk,
        moved: this.config.kind === "InterpreterPool" ? movedBytes(args, chunk !== undefined) : 0,
        worker: undefined,
        submittedAt,
        sentAt: -1,
        postMillis: 0,
        trace,
        attempts: policy === undefined ? undefined : new Attempts(policy)
      },
      policy?.priority
    )
    // The first call of a burst goes at once, to an idle worker if there is one; the rest of
    // the burst waits for the submitting fiber to yield, to leave in batches.
    if (this.queue.length === 1) this.dispatch()
    else this.scheduleDispatch()
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

  protected pending(): number {
    return this.queue.length + this.requeued.length
  }

  /** Workers that could take a call now: live ones holding none, and those `maxWorkers` still allows to start. */
  protected free(): number {
    // Idle live workers plus the ones still to start: `maxWorkers` less the live workers holding calls.
    let free = this.config.maxWorkers
    for (const w of this.workers) if (!w.retiring && w.items.size > 0) free--
    return Math.max(0, free)
  }

  /** Calls not yet answered: queued, or held by a worker. */
  private unanswered(): number {
    let held = 0
    for (const w of this.workers) held += w.items.size
    return this.pending() + held
  }

  /** The worker to send to, spawning one while under `maxWorkers` and every live worker is busy. */
  private pick(): PoolWorker | undefined {
    let best: PoolWorker | undefined
    for (const w of this.workers) {
      if (!w.retiring && (best === undefined || w.items.size < best.items.size)) best = w
    }
    if ((best === undefined || best.items.size > 0) && live(this.workers) < this.config.maxWorkers) {
      best = this.spawn() ?? best
    }
    return best
  }

  private dispatch(): void {
    while (this.broken === undefined && this.pending() > 0) {
      const worker = this.pick()
      if (worker === undefined) return
      const room = this.balancer.room(worker, this.unanswered(), this.config.maxWorkers, this.config.maxTasksPerChild)
      if (room === 0) return
      const batch: Array<WorkItem> = []
      const queued = this.queue.length
      let moved = this.movedHeld()
      while (batch.length < room) {
        const next = this.requeued.peek() ?? this.queue.peek()
        if (next === undefined) break
        if (!this.balancer.mayMove(next.moved, moved, worker.items.size === 0 && batch.length === 0)) break
        const item = this.requeued.length > 0 ? this.requeued.shift()! : this.queue.shift()!
        // As `_ExecutorManagerThread.add_call_item_to_queue`: a cancelled call is only notified.
        if (item.future.state === "PENDING" || item.future.state === "CANCELLED") {
          if (!core.setRunningOrNotifyCancelUnsafe(item.future)) continue
          item.future.interruptor = this.interruptor(item)
        } else if (core.isDone(item.future)) {
          // Interrupted while waiting to run again.
          continue
        }
        batch.push(item)
        moved += item.moved
      }
      if (this.admission !== undefined && queued > this.queue.length) {
        this.admission.freed(queued - this.queue.length)
      }
      if (batch.length === 0) return
      this.send(worker, batch)
    }
  }

  /** The bytes of moved buffers the workers hold: sent with calls not yet answered. */
  private movedHeld(): number {
    let bytes = 0
    for (const w of this.workers) bytes += w.items.moved
    return bytes
  }

  private send(worker: PoolWorker, batch: ReadonlyArray<WorkItem>): void {
    const now = performance.now()
    const observer = this.observer
    for (const item of batch) {
      // A call taken back from a replaced worker waited once already.
      if (item.sentAt < 0) observer.queueWait.record(now - item.submittedAt)
      item.sentAt = now
      if (item.trace !== undefined) observer.startSpan(item.trace, worker.handle.id, now - item.submittedAt)
    }
    if (worker.items.size === 0) worker.since = now
    for (const item of batch) {
      item.worker = worker
      worker.items.add(item)
    }
    worker.sent += batch.length
    worker.lastTask = batch[batch.length - 1].task
    if (this.config.maxTasksPerChild !== undefined && worker.sent >= this.config.maxTasksPerChild) {
      worker.retiring = true
    }
    // Each call gets its own copy of its arguments, as Python pickles each call apart.
    for (const message of messagesApart(batch, (item) => item.args)) this.post(worker, message)
  }

  /** Posts calls to `worker` in one `Run` message; a call that cannot be cloned fails alone. */
  private post(worker: PoolWorker, batch: ReadonlyArray<WorkItem>): void {
    const transfer: Array<Transferable> = []
    const calls = batch.map((item) => this.wireCall(item, transfer))
    const start = performance.now()
    try {
      worker.handle.send({ _tag: "Run", calls }, transfer)
    } catch {
      // Find the calls that cannot be cloned: send one by one, and fail only those.
      for (let i = 0; i < batch.length; i++) {
        const one: Array<Transferable> = []
        const call = this.wireCall(batch[i], one)
        const started = performance.now()
        try {
          worker.handle.send({ _tag: "Run", calls: [call] }, one)
          batch[i].postMillis = performance.now() - started
        } catch (error) {
          this.failArgument(batch[i], error)
        }
      }
      return
    }
    const share = (performance.now() - start) / batch.length
    for (const item of batch) item.postMillis = share
  }

  /** The call as it crosses to a worker, its transferables collected in `transfer`. */
  private wireCall(item: WorkItem, transfer: Array<Transferable>): Call {
    const args =
      item.chunk !== undefined
        ? item.args.map((a) => unwrapAll(a as ReadonlyArray<unknown>, transfer))
        : unwrapAll(item.args, transfer)
    const call: Call = {
      id: item.id,
      module: item.task.module,
      name: item.task.name,
      args,
      chunk: item.chunk !== undefined,
      // The timeout starts when the worker starts the call, not while it waits there behind others.
      ...(item.attempts?.timeout === undefined ? {} : { timed: true })
    }
    const trace = item.trace?.parent()
    return trace === undefined ? call : { ...call, trace }
  }

  /**
   * The call's arguments cannot be cloned: it fails, naming the first argument that cannot, by its
   * position in the call and, in a chunk of `map`'s calls, by the map input it belongs to.
   */
  private failArgument(item: WorkItem, cause: unknown): void {
    item.worker?.items.delete(item.id)
    item.sentAt = -1
    const calls = (item.chunk === undefined ? [item.args] : item.args) as ReadonlyArray<ReadonlyArray<unknown>>
    let error: SerializationError = unclonable("argument", item.args, "arguments", cause)
    for (let call = 0; call < calls.length; call++) {
      const index = calls[call].findIndex((a) => {
        try {
          structuredClone(a)
          return false
        } catch {
          return true
        }
      })
      if (index < 0) continue
      const where = item.chunk === undefined ? "" : `map input ${item.chunk + call}, `
      error = unclonable("argument", calls[call][index], `${where}argument ${index + 1}`, cause)
      break
    }
    this.complete(item, Exit.fail(error))
  }

  /**
   * How an attempt ended: the call ends, or (as `retries` allows) waits the schedule's delay,
   * RUNNING on no worker, then goes back to the queue ahead of new calls.
   */
  private settle(item: WorkItem, exit: Exit.Exit<unknown, unknown>, now?: number): void {
    const attempts = item.attempts
    if (attempts === undefined) {
      this.complete(item, exit, now)
      return
    }
    const end = attempts.end(exit)
    if (Exit.isSuccess(end) || !attempts.mayRetry(end.cause) || this.broken !== undefined) {
      this.complete(item, end, now)
      return
    }
    item.worker = undefined
    this.retryWaits.add(item)
    attempts.retry(this.context, end.cause, (again) => {
      this.retryWaits.delete(item)
      if (core.isDone(item.future)) {
        // Interrupted while it waited.
      } else if (!again) this.complete(item, end)
      else if (this.broken !== undefined) this.complete(item, Exit.fail(this.broken))
      else {
        this.requeued.push(item)
        this.dispatch()
      }
      this.checkTerminated()
    })
  }

  /** Ends the call's future; `now`, when the caller has read the clock, for the run time. */
  private complete(item: WorkItem, exit: Exit.Exit<unknown, unknown>, now?: number): void {
    item.attempts?.end(exit)
    const observer = this.observer
    if (item.sentAt >= 0) {
      observer.runTime.record((now ?? performance.now()) - item.sentAt)
      item.sentAt = -1
    }
    if (item.trace !== undefined) observer.endSpan(item.trace, exit)
    this.end(item.future, exit)
  }

  private spawn(): PoolWorker | undefined {
    let handle: WorkerHandle
    try {
      handle = this.config.spawn()
    } catch (cause) {
      this.break(`a worker ${this.noun} could not be started: ${String(cause)}`, cause)
      return undefined
    }
    const worker: PoolWorker = {
      handle,
      items: new SentCalls<WorkItem>(),
      sent: 0,
      since: performance.now(),
      retiring: false,
      stopping: false,
      answered: false,
      killTimer: undefined,
      lastTask: undefined
    }
    this.workers.add(worker)
    handle.onMessage((message) => this.onMessage(worker, message))
    handle.onExit((code, signal, error, started, abandoned) => {
      // As a spawn that throws: the pool cannot start workers, whatever `onWorkerDeath` says.
      if (!started) this.break(`a worker ${this.noun} could not be started: ${String(error)}`, error)
      this.onExit(worker, code, signal, error, abandoned)
    })
    if (this.config.maxMemoryBytes !== undefined) handle.send({ _tag: "ReportMemory" })
    const init = this.config.initializer
    if (init !== undefined) {
      try {
        handle.send({ _tag: "Init", module: init.module, name: init.name, args: init.args })
      } catch (cause) {
        this.break("the initializer's arguments cannot be sent to a worker", cause)
      }
    }
    return worker
  }

  private onMessage(worker: PoolWorker, message: FromWorker): void {
    if (message._tag === "Dying") {
      const cause = message.defect === undefined ? undefined : decodeDefect(message.defect)
      this.died(worker, message.how, cause, message.code, null, message.id)
      return
    }
    if (message._tag === "Progress") {
      const item = worker.items.get(message.id)
      if (item !== undefined) core.reportProgress(item.future, message.value)
      return
    }
    if (message._tag === "Started") {
      const item = worker.items.get(message.id)
      // Its timeout runs from now: once it passes, the attempt is stopped and ends with `TimeoutError`.
      item?.attempts?.arm(this.context, () => {
        if (!core.isDone(item.future) && item.worker !== undefined) Effect.runFork(this.stopAttempt(item))
      })
      return
    }
    if (message._tag === "Ready") {
      if (this.starting?.workers.delete(worker) === true) this.starting.wake()
      return
    }
    if (message._tag === "InitFailed") {
      const cause = decodeDefect(message.defect)
      this.break(
        `A ${this.noun} initializer failed, the pool is not usable anymore: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause
      )
      return
    }
    worker.answered = true
    // Over `maxMemoryPerWorker`: no more calls (not even from the callers these replies wake); it
    // stops once those it holds are answered.
    if (message.memory !== undefined && message.memory > this.config.maxMemoryBytes!) worker.retiring = true
    const now = performance.now()
    for (const reply of message.replies) {
      const item = worker.items.get(reply.id)
      if (item === undefined) continue
      worker.items.delete(reply.id)
      if (reply.millis !== undefined) this.balancer.measure(reply.millis + item.postMillis)
      if (reply.spans !== undefined && item.trace !== undefined) this.observer.replay(item.trace, reply.spans)
      if (reply.done !== undefined) partialChunks.set(item.future, reply.done)
      this.settle(item, decodeExit(item.task, reply.exit), now)
    }
    worker.since = now
    if (worker.items.size === 0) {
      if (worker.retiring || (this.isShutdown && this.pending() === 0)) this.stop(worker)
      else this.idle?.arm()
    }
    if (this.pending() > 0) this.dispatch()
    // A worker with nothing left to run can take a new call: a submitter waiting for room may come in.
    if (worker.items.size === 0) this.admission?.freed(1)
    this.checkTerminated()
  }

  private onExit(
    worker: PoolWorker,
    code: number | null,
    signal: NodeJS.Signals | null,
    error: unknown,
    abandoned: boolean
  ): void {
    // A killed thread that did not end (blocked in a system call): the pool goes on without it, and says so.
    if (abandoned) this.warn(worker, abandonedWarning(this.config.kind, worker))
    if (!worker.stopping) {
      this.died(
        worker,
        signal !== null ? `was killed by signal ${signal}` : `exited with code ${code}`,
        error,
        code,
        signal
      )
    }
    if (worker.killTimer !== undefined) clearTimeout(worker.killTimer)
    this.workers.delete(worker)
    // Replaced: what it held had not started, so it runs elsewhere.
    for (const item of worker.items.values()) this.requeue(item)
    worker.items.clear()
    if (this.pending() > 0) this.scheduleDispatch()
    this.keepMinWorkers(worker)
    // Its place may be taken by a new worker: a submitter waiting for room may come in.
    this.admission?.freed(1)
    this.checkTerminated()
  }

  /**
   * A worker died unexpectedly: the pool breaks, or with `onWorkerDeath: "replace"` only the call
   * it was running fails. `running` is the call the worker said it was running, else the oldest it
   * held (a worker runs its calls in the order sent).
   */
  private died(
    worker: PoolWorker,
    how: string,
    cause: unknown,
    exitCode: number | null,
    signal: string | null,
    running?: number
  ): void {
    if (worker.stopping) return
    const death: Death = { kind: this.config.kind, workerId: worker.handle.id, how, cause, exitCode, signal }
    // One `prestart` waits for cannot start: the pool cannot, as with a spawn that fails.
    if (this.config.onWorkerDeath === "break" || this.starting?.workers.has(worker) === true) {
      this.break(brokenByDeath(death), cause)
      return
    }
    worker.stopping = true
    worker.retiring = true
    const victim = (running === undefined ? undefined : worker.items.get(running)) ?? worker.items.values()[0]
    if (victim !== undefined) {
      worker.items.delete(victim.id)
      this.settle(victim, Exit.fail(diedRunning(death)))
    }
    // The calls behind it had not started: they run on another worker, first.
    for (const item of worker.items.values()) this.requeue(item)
    worker.items.clear()
    // Told by the worker itself: it is exiting; make sure it does.
    this.killLater(worker)
    if (this.pending() > 0) this.scheduleDispatch()
  }

  /**
   * Takes back a call its worker held but had not started, to go first to another worker. It is
   * on no worker now, and its timeout starts again with the attempt there: the old timer would
   * interrupt that attempt early.
   */
  private requeue(item: WorkItem): void {
    item.attempts?.restart()
    item.worker = undefined
    this.requeued.push(item)
  }

  /** After a worker has exited: start another while fewer than `minWorkers` run. */
  private keepMinWorkers(gone: PoolWorker): void {
    if (!gone.answered || this.isShutdown || this.broken !== undefined) return
    if (live(this.workers) < this.config.minWorkers) this.spawn()
  }

  /** Kills the worker if it has not exited `terminateGrace` from now. */
  private killLater(worker: PoolWorker): void {
    killLater(
      this.config.kind,
      worker,
      this.config.terminateGraceMillis,
      () => this.workers.has(worker),
      (message) => this.warn(worker, message)
    )
  }

  /** A warning about a worker, in the executor's logs. */
  private warn(worker: PoolWorker, message: string): void {
    Effect.runForkWith(this.config.context)(
      Effect.logWarning(message).pipe(Effect.annotateLogs({ executor: this.observer.name, workerId: worker.handle.id }))
    )
  }

  /** The pool breaks: every running and pending call fails with `exit`, and every worker goes. */
  protected abandon(exit: Exit.Exit<never, unknown>): void {
    this.idle?.clear()
    this.abandonWith(exit, { everyWorker: true, queued: true })
    this.starting?.wake()
  }

  /**
   * The one way to give up on what the pool holds: every call sent to a worker, taken back to run
   * again or waiting between attempts (with `queued`, every call not yet sent too) ends with `exit`,
   * and the workers that held calls (with `everyWorker`, all of them) are killed with `signal`,
   * then SIGKILLed after `terminateGrace` should that signal be ignored. A broken pool,
   * `terminateWorkers()`/`killWorkers()` and an interrupted scope's close all end this way.
   */
  private abandonWith(
    exit: Exit.Exit<unknown, unknown>,
    options: { readonly everyWorker?: boolean; readonly queued?: boolean; readonly signal?: NodeJS.Signals }
  ): void {
    const signal = options.signal ?? "SIGKILL"
    for (const worker of this.workers) {
      if (worker.items.size === 0 && options.everyWorker !== true) continue
      for (const item of worker.items.values()) this.complete(item, exit)
      worker.items.clear()
      worker.stopping = true
      worker.handle.kill(signal)
      if (signal !== "SIGKILL") this.killLater(worker)
    }
    for (const item of this.requeued.drain()) this.complete(item, exit)
    if (options.queued === true) for (const item of this.queue.drain()) this.complete(item, exit)
    this.endRetries(exit)
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
    this.killLater(worker)
  }

  /** `Future.interrupt` for a call sent to a worker: it ends interrupted, with no further attempt. */
  private interruptor(item: WorkItem): Effect.Effect<void> {
    return Effect.suspend(() => {
      item.attempts?.stop()
      return this.stopAttempt(item)
    })
  }

  /** Stops the running attempt: abort, then replace the worker if it does not stop in time. */
  private stopAttempt(item: WorkItem): Effect.Effect<void> {
    return Effect.suspend(() => {
      const worker = item.worker
      if (core.isDone(item.future)) return Effect.void
      if (worker === undefined) {
        // Between attempts, or queued to run again: it stops here.
        item.attempts?.stopRetrying()
        this.retryWaits.delete(item)
        this.complete(item, Exit.interrupt())
        this.checkTerminated()
        return Effect.void
      }
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
                for (const earlier of worker.items.values()) {
                  if (earlier.id === item.id) break
                  worker.items.delete(earlier.id)
                  this.complete(earlier, Exit.fail(lostWithWorker()))
                }
                worker.items.delete(item.id)
                this.settle(item, Exit.interrupt())
                this.stop(worker)
                worker.handle.kill()
              })
        )
      )
    })
  }

  protected override onShutdown(): void {
    this.idle?.clear()
  }

  /** Python 3.14's `terminate_workers()` / `kill_workers()`: shut down, cancel pending, stop every worker now. */
  forceShutdown(signal: NodeJS.Signals, name: string): Effect.Effect<void> {
    return Effect.andThen(
      this.shutdown({ wait: false, cancelFutures: true }),
      Effect.suspend(() => {
        const broken = new BrokenExecutor({ kind: this.config.kind, reason: `the workers were stopped by ${name}()` })
        // Calls taken back to run again are running: they fail as the running ones do.
        this.abandonWith(Exit.fail(broken), { everyWorker: true, signal })
        return this.awaitTerminated
      })
    )
  }

  /**
   * An interrupted scope stops running calls, as `Future.interrupt` does: each is aborted in its
   * worker (an Effect task's fiber is interrupted, so its finalizers run), and the workers whose
   * calls have not ended `interruptGrace` later are killed.
   */
  protected interruptRunning(): Effect.Effect<void> {
    for (const item of this.requeued.drain()) this.complete(item, Exit.interrupt())
    this.endRetries(Exit.interrupt())
    const running: Array<Effect.Effect<unknown>> = []
    for (const worker of this.workers) {
      // The last sent first: the worker drops the calls it has not started before it could start them.
      const held = worker.items.values()
      for (let i = held.length - 1; i >= 0; i--) {
        // Asked to stop, as by `Future.interrupt`: it ends interrupted, with no further attempt.
        held[i].attempts?.stop()
        running.push(core.awaitDone(held[i].future))
        try {
          worker.handle.send({ _tag: "Abort", id: held[i].id })
        } catch {
          // The worker is gone; its exit ends the call.
        }
      }
    }
    // A worker whose calls have all answered is asked to stop (as after any last reply).
    this.checkTerminated()
    return Effect.all(running, { concurrency: "unbounded", discard: true }).pipe(
      Effect.timeoutOption(this.config.interruptGraceMillis),
      Effect.andThen(
        // What has not ended by then is given up, and the workers still holding calls are killed.
        Effect.sync(() => this.abandonWith(Exit.interrupt(), {}))
      )
    )
  }

  /** Calls waiting to run again end now with `exit`. */
  private endRetries(exit: Exit.Exit<unknown, unknown>): void {
    for (const item of this.retryWaits) {
      item.attempts?.stopRetrying()
      this.complete(item, exit)
    }
    this.retryWaits.clear()
  }

  /**
   * Shut down with nothing left to send: workers without calls are done (those with calls stop
   * when their last reply comes); the pool has stopped once no call waits to run again and every
   * worker has exited.
   */
  protected windDown(): boolean {
    if (this.retryWaits.size > 0) return false
    for (const worker of this.workers) if (worker.items.size === 0) this.stop(worker)
    return this.workers.size === 0
  }
}
