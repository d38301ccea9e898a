import { randomUUID } from "node:crypto"
/**
 * The client side of a cluster: an `Executor` whose calls are messages to the cluster's
 * `effect-futures/Task` entity, on the pool core (`executor/core.ts`) as every pool is. A call
 * waits in this process (PENDING, cancellable) until fewer than `maxInFlight` calls are out,
 * then is sent (RUNNING) to one of a fixed set of entity ids, which the cluster's shards spread
 * over the runners. Its arguments are encoded here, so a value that would not arrive exactly
 * fails its future before anything is sent.
 *
 * No runner registered: a call waits `runnerTimeout` for one, then fails with
 * `BrokenExecutor`; so do the calls out while no runner has been seen for as long. The
 * executor itself is not broken by it: runners may come back.
 *
 * @internal
 */

import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as RunnerStorage from "effect/cluster/RunnerStorage"
import type * as Sharding from "effect/cluster/Sharding"
import * as SocketRunner from "effect/cluster/SocketRunner"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Latch from "effect/Latch"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as SqlClient from "effect/sql/SqlClient"
import { BrokenExecutor, SerializationError, UnknownTask } from "../../Errors.ts"
import * as Executor from "../../Executor.ts"
import { isTask, type Task } from "../../Task.ts"
import { type NewCall, type Queued, SendingPool } from "../executor/core.ts"
import { type MapPacing, partialChunks } from "../executor/map.ts"
import { makeService, type ServedPool } from "../executor/service.ts"
import * as core from "../future/state.ts"
import { ExecutorObserver, type PoolGauges, type TaskTrace } from "../observe.ts"
import { Admission } from "../policy/admission.ts"
import { Attempts } from "../policy/attempt.ts"
import * as check from "../policy/options.ts"
import { decodeExit, encodeArgs, type OnRunnerDeath, onRunnerDeathOf, type WireArgs, type WireExit } from "./codec.ts"
import { type SharedOptions, shardingConfig, storage, TaskEntity, transport } from "./entity.ts"

/** Options of the client. */
/** @internal */
export interface ClientOptions extends Executor.PoolOptions, SharedOptions {
  /** How long a call waits for a runner to be registered before it fails with `BrokenExecutor` (default 30 seconds). */
  readonly runnerTimeout?: Duration.Input | undefined
  /** Calls sent and not yet answered at most; the rest wait here, PENDING (default 256). */
  readonly maxInFlight?: number | undefined
  /** How many entity ids the calls rotate over: more spread calls more evenly over the runners (default 64). */
  readonly entities?: number | undefined
  /**
   * What a call whose runner dies (SIGKILL, a crash, a lost machine) does: `"rerun"` (default) runs it again
   * on the shard's next owner (at-least-once); `"fail"` fails it with `WorkerDied` (`kind: "Cluster"`), for
   * work that must not run twice. A Task's own choice (`ClusterExecutor.onRunnerDeath`) comes first.
   */
  readonly onRunnerDeath?: OnRunnerDeath | undefined
  /** The executor's name in logs and errors; default `ClusterExecutor-<k>`. */
  readonly name?: string | undefined
}

/** One message to send: a single call, or a `map` chunk's calls, whose future holds their results. */
interface Call extends Queued {
  readonly task: Task<any, any, any>
  readonly calls: ReadonlyArray<WireArgs>
  /** The map input of a chunk's first call; `undefined` for a single call. */
  readonly chunk: number | undefined
  /** `submitWith`'s timeout and retries, when given. */
  readonly attempts: Attempts | undefined
  /** When it was submitted (`performance.now()`), for the queue wait. */
  readonly submittedAt: number
  /** Its span's making, when the caller traces. */
  readonly trace: TaskTrace | undefined
}

/**
 * What one `Run` message carries: one call or `map` chunk, or several sent together (`batch`
 * their id); `chunks` the sizes of its chunks, the calls one chunk after the other.
 */
interface Message {
  readonly task: Task<any, any, any>
  readonly calls: ReadonlyArray<WireArgs>
  readonly chunks: ReadonlyArray<number> | null
  readonly batch: string | null
}

/**
 * One attempt of a message: sent to entity `entity`, its reply decoded into one Exit per call,
 * or per chunk a success holding the Exits of its calls up to the first failure.
 */
type Send = (
  message: Message,
  entity: string
) => Effect.Effect<ReadonlyArray<Exit.Exit<unknown, unknown>>, BrokenExecutor>

/** Stops the call at `index` of the message `batch` sent to `entity`, on its runner; resolves once it has stopped. */
type StopCall = (entity: string, batch: string, index: number) => Effect.Effect<void>

interface ClusterPoolConfig {
  readonly name: string
  /** `maxInFlight`: calls out at most, the client's workers. */
  readonly maxWorkers: number
  readonly entities: number
  readonly send: Send
  readonly stopCall: StopCall
  /** How untuned `map` paces the cluster: chunks that cross the network and a queue of messages. */
  readonly mapPacing: MapPacing
  /** Calls (or `map` chunks) sent together in one message at most (1: each alone). */
  readonly batchSize: number
  readonly observer: ExecutorObserver
  readonly admission: Admission | undefined
  /** The layer's context: the cluster's sharding, where calls run and done callbacks of ended futures. */
  readonly context: Context.Context<never>
}

/**
 * The client's pool: the queue, admission and lifecycle of the pool core, with calls out in
 * the cluster in place of workers. Each message out is a fiber of this process waiting for its
 * reply, so an interrupted scope interrupts the fiber, which sends the interrupt to the runner,
 * and so does `Future.interrupt` of a call sent alone. Calls (or `map` chunks) queued together
 * of one Task and no `submitWith` policy leave in one message (`sendBatch`), each still one call
 * out: there `Future.interrupt` stops its call alone (`InterruptCall`), and the others run on.
 */
class ClusterPool extends SendingPool<Call> implements ServedPool {
  readonly config: ClusterPoolConfig
  private readonly running = new Set<Fiber.Fiber<unknown, unknown>>()
  /** Calls out: what `maxInFlight` bounds. */
  private out = 0
  private nextEntity = 0
  /** A send deferred to the end of the current burst of submits. */
  private sendScheduled = false
  private readonly batchPrefix = randomUUID()
  private nextBatch = 0

  constructor(config: ClusterPoolConfig) {
    super("Cluster", config.observer, config.admission, config.context)
    this.config = config
  }

  /** Room under `maxInFlight`. */
  protected free(): number {
    return this.config.maxWorkers - this.out
  }

  /**
   * A call that cannot cross (not a Task, a value that would not arrive exactly) fails at once;
   * the rest is queued and sent when there is room.
   */
  protected queueCall(
    future: core.FutureImpl<unknown, unknown>,
    { args, chunk, context, policy, task }: NewCall
  ): void {
    if (!isTask(task)) {
      this.end(future, Exit.fail(this.notRunnable(task)))
      return
    }
    const argsList = (chunk === undefined ? [args] : args) as ReadonlyArray<ReadonlyArray<unknown>>
    const calls: Array<WireArgs> = []
    for (let i = 0; i < argsList.length; i++) {
      const wire = encodeArgs(task, argsList[i])
      if (wire instanceof SerializationError) {
        this.end(future, Exit.fail(chunk === undefined ? wire : inMapInput(wire, chunk + i)))
        return
      }
      calls.push(wire)
    }
    const observer = this.observer
    const trace = observer.trace(context, task)
    const call: Call = {
      future,
      task,
      calls,
      chunk,
      attempts:
        policy === undefined || (policy.timeout === undefined && policy.retries === undefined)
          ? undefined
          : new Attempts(policy),
      submittedAt: trace === undefined ? observer.stamp() : performance.now(),
      trace
    }
    this.queue.push(call, policy?.priority)
    this.dispatch(batchable(call))
  }

  private notRunnable(task: unknown): UnknownTask {
    return new UnknownTask({
      module: "",
      name: typeof task === "function" ? task.name || "(anonymous function)" : "(an Effect)",
      message: `${this.config.name}: a cluster runs Tasks only (Task.make, registered on the runners); a function or an Effect cannot cross machines`
    })
  }

  /**
   * Sends queued calls while fewer than `maxInFlight` are out. While calls are out, a call that
   * may go with others (`together`: one just queued or ended was `batchable`) waits for the end
   * of the current burst of submits or replies (one microtask), so that the burst's calls can
   * leave together; calls with a policy leave at once.
   */
  private dispatch(together: boolean): void {
    if (!together || this.out === 0 || this.config.batchSize === 1) this.sendQueued()
    else if (!this.sendScheduled) {
      this.sendScheduled = true
      queueMicrotask(() => {
        this.sendScheduled = false
        this.sendQueued()
      })
    }
  }

  /**
   * Sends queued calls while fewer than `maxInFlight` are out: consecutive calls that may go
   * together (`batchable`, one Task, all single calls or all `map` chunks) in one message of up
   * to `batchSize`, and of no more than
   * a `spreadOver`-th of the calls queued, so that a short burst still spreads over the runners.
   * One cancelled while queued is only notified.
   */
  private sendQueued(): void {
    const most = Math.min(this.config.batchSize, Math.ceil(this.queue.length / spreadOver))
    let carried: Call | undefined
    while (this.out < this.config.maxWorkers) {
      const call = carried ?? this.take()
      carried = undefined
      if (call === undefined) break
      if (!batchable(call)) {
        this.start(call)
        continue
      }
      const batch = [call]
      while (batch.length < most && this.out + batch.length < this.config.maxWorkers) {
        const next = this.take()
        if (next === undefined) break
        if (!batchable(next) || next.task !== call.task || (next.chunk === undefined) !== (call.chunk === undefined)) {
          carried = next
          break
        }
        batch.push(next)
      }
      if (batch.length === 1) this.start(call)
      else this.sendBatch(batch)
    }
  }

  /** The next queued call still to send, RUNNING from now on; one cancelled while queued is only notified. */
  private take(): Call | undefined {
    for (let call = this.queue.shift(); call !== undefined; call = this.queue.shift()) {
      this.admission?.freed(1)
      if (core.setRunningOrNotifyCancelUnsafe(call.future) === true) return call
    }
    return undefined
  }

  /** A call leaving: its queue wait, its span's start; the time it started. */
  private leaving(call: Call, entity: string): number {
    const startedAt = performance.now()
    this.observer.queueWait.record(startedAt - call.submittedAt)
    if (call.trace !== undefined) this.observer.startSpan(call.trace, entity, startedAt - call.submittedAt)
    this.out++
    return startedAt
  }

  /** The call's attempts, in a fiber of its own; the fiber's end ends the future. */
  private start(call: Call): void {
    const entity = this.pickEntity()
    const startedAt = this.leaving(call, entity)
    const message: Message = {
      task: call.task,
      calls: call.calls,
      chunks: call.chunk === undefined ? null : [call.calls.length],
      batch: null
    }
    // The first attempt goes to `entity`; a retry is a new call, to the next entity id.
    let next: string | undefined = entity
    const attempt = Effect.suspend(() => {
      const to = next ?? this.pickEntity()
      next = undefined
      return this.config.send(message, to)
    })
    const work = Effect.flatMap(attempt, (exits) => exits[0] ?? Exit.die(new Error("ClusterExecutor: an empty reply")))
    const fiber = Effect.runForkWith(this.context)(call.attempts === undefined ? work : call.attempts.run(work))
    this.running.add(fiber)
    // Future.interrupt: interrupting the call's fiber sends the interrupt to the runner running it.
    call.future.interruptor = Fiber.interrupt(fiber)
    fiber.addObserver((exit) => {
      this.running.delete(fiber)
      this.ended(call, startedAt, exit)
    })
  }

  /**
   * Calls sent together in one message, in a fiber of its own whose end ends each call's future
   * with its own reply. `Future.interrupt` of one stops it alone on its runner and ends its
   * future; the message's fiber runs on for the others.
   */
  private sendBatch(calls: ReadonlyArray<Call>): void {
    const entity = this.pickEntity()
    const batch = `${this.batchPrefix}:${this.nextBatch++}`
    const startedAt = calls.map((call) => this.leaving(call, entity))
    /** The calls whose futures the message still ends. */
    const open = new Set(calls)
    const chunked = calls[0].chunk !== undefined
    const message: Message = {
      task: calls[0].task,
      calls: chunked ? calls.flatMap((call) => call.calls) : calls.map((call) => call.calls[0]),
      chunks: chunked ? calls.map((call) => call.calls.length) : null,
      batch
    }
    const fiber = Effect.runForkWith(this.context)(this.config.send(message, entity))
    this.running.add(fiber)
    calls.forEach((call, index) => {
      call.future.interruptor = Effect.suspend(() =>
        open.has(call)
          ? Effect.andThen(
              this.config.stopCall(entity, batch, index),
              Effect.sync(() => {
                if (open.delete(call)) this.ended(call, startedAt[index], Exit.interrupt())
              })
            )
          : Effect.void
      )
    })
    fiber.addObserver((exit) => {
      this.running.delete(fiber)
      calls.forEach((call, index) => {
        if (!open.delete(call)) return
        const outcome = Exit.isFailure(exit)
          ? exit
          : (exit.value[index] ?? Exit.die(new Error("ClusterExecutor: a reply without this call")))
        this.ended(call, startedAt[index], outcome)
      })
    })
  }

  private pickEntity(): string {
    return String(this.nextEntity++ % this.config.entities)
  }

  /** A call's end: a chunk's replies become its results (those before a failure kept for `map`); room for the next. */
  private ended(call: Call, startedAt: number, exit: Exit.Exit<unknown, unknown>): void {
    this.out--
    this.observer.runTime.record(performance.now() - startedAt)
    const outcome = call.chunk === undefined || Exit.isFailure(exit) ? exit : chunkExit(call.future, exit.value as any)
    if (call.trace !== undefined) this.observer.endSpan(call.trace, outcome)
    this.end(call.future, outcome)
    if (this.queue.length > 0) this.dispatch(batchable(call))
    else this.admission?.freed(1)
    this.checkTerminated()
  }

  protected pending(): number {
    return this.queue.length
  }

  /** Every call out has ended, and every message's fiber too (one may outlive its call stopped alone). */
  protected windDown(): boolean {
    return this.out === 0 && this.running.size === 0
  }

  /** Queued calls fail with `exit`; calls out are interrupted, on their runners too. */
  protected abandon(exit: Exit.Exit<never, unknown>): void {
    for (const call of this.queue.drain()) this.end(call.future, exit)
    for (const fiber of this.running) fiber.interruptUnsafe()
  }

  /** Calls out are interrupted, on their runners too. */
  protected interruptRunning(): Effect.Effect<void> {
    return Fiber.interruptAll(this.running)
  }

  /** What the gauges read: calls waiting for room, calls out, room left. */
  gauges(): PoolGauges {
    return {
      queueDepth: () => this.queue.length,
      busy: () => this.out,
      idle: () => this.config.maxWorkers - this.out
    }
  }
}

/** A call or `map` chunk that may leave in one message with others of its kind: one with no timeout or retries. */
const batchable = (call: Call): boolean => call.attempts === undefined

/** A chunk's replies as its future's end: every result, or the first failure, the results before it kept for `map`. */
const chunkExit = (
  future: core.FutureImpl<unknown, unknown>,
  exits: ReadonlyArray<Exit.Exit<unknown, unknown>>
): Exit.Exit<unknown, unknown> => {
  const values: Array<unknown> = []
  for (const exit of exits) {
    if (Exit.isFailure(exit)) {
      if (values.length > 0) partialChunks.set(future, values)
      return exit
    }
    values.push(exit.value)
  }
  return Exit.succeed(values)
}

/** One call's ending as the runner sent it; a reply that does not decode is a defect of that call. */
const decodeOne = (task: Task<any, any, any>, wire: Schema.Json): Exit.Exit<unknown, unknown> => {
  try {
    return decodeExit(task, wire as unknown as WireExit)
  } catch (cause) {
    return Exit.die(cause)
  }
}

/** A `map` chunk's argument that cannot cross, named by its map input. */
const inMapInput = (error: SerializationError, input: number): SerializationError =>
  new SerializationError({
    direction: error.direction,
    valueType: error.valueType,
    detail: `map input ${input}: ${error.detail}`
  })

let executorCount = 0

/**
 * Calls out per message of several, at most: `maxInFlight / batchDivisor`, so the calls out still
 * spread over that many messages (over the runners), while a burst costs few messages.
 */
const batchDivisor = 8

/** The fewest messages a burst of calls leaves in, where it has that many calls. */
const spreadOver = 16

/**
 * Untuned `map` on a cluster: a chunk's round trip is a few milliseconds when idle and tens with
 * calls in flight, so a chunk may take 100 ms and still grow. A chunk's time counts the chunks
 * ahead of it, here and on the runners, as its own: so at most 32 chunks are ahead of the consumer
 * (at most one per call that may be out), and `buffersize` sets more for slow calls on many runners.
 */
const clusterPacing: MapPacing = { unitsPerWorker: 1, maxUnits: 32, chunkMillis: 100 }

/** How long `Future.interrupt` of a call sent with others waits for its runner to confirm the stop. */
const stopCallMillis = 5_000

/** The client executor, with the cluster's sharding and runner storage in context. */
/** @internal */
export const make = (
  options: ClientOptions = {}
): Effect.Effect<
  Executor.Service,
  Cause.IllegalArgumentError,
  Scope.Scope | Sharding.Sharding | RunnerStorage.RunnerStorage
> =>
  Effect.gen(function* () {
    const runnerTimeout = check.decodeTimeout("runnerTimeout", options.runnerTimeout) ?? Duration.seconds(30)
    if (Cause.isIllegalArgumentError(runnerTimeout)) return yield* runnerTimeout
    const maxInFlight = options.maxInFlight ?? 256
    const entities = options.entities ?? 64
    const bad = check.checkPositiveInt("maxInFlight", maxInFlight) ?? check.checkPositiveInt("entities", entities)
    if (bad) return yield* bad
    const policy = check.checkPoolOptions(options)
    if (policy instanceof Error) return yield* policy
    const onRunnerDeath = options.onRunnerDeath ?? "rerun"
    if (onRunnerDeath !== "rerun" && onRunnerDeath !== "fail") {
      return yield* check.badOption("onRunnerDeath", '"rerun" or "fail"', onRunnerDeath)
    }
    const name = check.checkName(options.name, () => `ClusterExecutor-${++executorCount}`)
    if (typeof name !== "string") return yield* name
    const runnerStorage = yield* RunnerStorage.RunnerStorage
    const clientFor = yield* TaskEntity.client
    const context = yield* Effect.context<never>()

    // -- runners: are there any? --------------------------------------------------------------
    const present = Latch.makeUnsafe(false)
    let absentSince: number | undefined = Date.now()
    /** Calls out while runners are gone: failed once they have been gone `runnerTimeout`. */
    const exposed = new Set<Deferred.Deferred<never, BrokenExecutor>>()
    const noRunner = (how: string) =>
      new BrokenExecutor({
        kind: "Cluster",
        reason: `${name}: no runner ${how} for ${Duration.format(runnerTimeout)} (runnerTimeout); start runners on the same storage, or raise runnerTimeout`
      })
    const pollInterval = Math.max(50, Math.min(1000, Duration.toMillis(runnerTimeout) / 4))
    yield* runnerStorage.getRunners.pipe(
      Effect.map((runners) => runners.some(([, healthy]) => healthy)),
      // A storage hiccup says nothing about the runners: keep what we knew.
      Effect.catchCause(() => Effect.succeed(undefined)),
      Effect.flatMap((any) =>
        Effect.sync(() => {
          if (any === true) {
            absentSince = undefined
            present.openUnsafe()
          } else if (any === false) {
            absentSince ??= Date.now()
            present.closeUnsafe()
            if (Date.now() - absentSince >= Duration.toMillis(runnerTimeout)) {
              const error = noRunner("has been registered")
              for (const d of exposed) Deferred.doneUnsafe(d, Exit.fail(error))
              exposed.clear()
            }
          }
        })
      ),
      Effect.repeat(Schedule.spaced(pollInterval)),
      Effect.forkScoped
    )
    const waitForRunner: Effect.Effect<void, BrokenExecutor> = Effect.suspend(() =>
      present.isOpen()
        ? Effect.void
        : Effect.timeoutOrElse(present.await, {
            duration: runnerTimeout,
            orElse: () => Effect.fail(noRunner("was registered"))
          })
    )
    /** `effect`, failing with `BrokenExecutor` if every runner stays gone `runnerTimeout` meanwhile. */
    const whileRunners = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | BrokenExecutor> =>
      Effect.suspend(() => {
        const gone = Deferred.makeUnsafe<never, BrokenExecutor>()
        exposed.add(gone)
        return Effect.raceFirst(effect, Deferred.await(gone)).pipe(
          Effect.ensuring(Effect.sync(() => exposed.delete(gone)))
        )
      })

    const brokenBy = (error: { readonly _tag: string; readonly message: string }) =>
      new BrokenExecutor({
        kind: "Cluster",
        reason: `${name}: the cluster could not take the call (${error._tag}: ${error.message})`,
        cause: error
      })

    /** One attempt: wait for a runner, send, decode the reply into the calls' Exits. */
    const send: Send = (message, entity) =>
      Effect.andThen(
        waitForRunner,
        clientFor(entity)
          .Run({
            module: message.task.module,
            name: message.task.name,
            chunks: message.chunks,
            calls: message.calls as unknown as ReadonlyArray<Schema.Json>,
            // A fresh id per attempt: a retry (submitWith's retries) is a new call.
            once: (onRunnerDeathOf(message.task) ?? onRunnerDeath) === "fail" ? randomUUID() : null,
            batch: message.batch
          })
          .pipe(
            Effect.catch((error) => Effect.fail(brokenBy(error))),
            whileRunners,
            Effect.map((replies) =>
              message.chunks === null
                ? replies.map((wire) => decodeOne(message.task, wire))
                : replies.map((wires) =>
                    Array.isArray(wires)
                      ? Exit.succeed(wires.map((wire) => decodeOne(message.task, wire)))
                      : Exit.die(new Error("ClusterExecutor: a chunk's reply that is not a list"))
                  )
            )
          )
      )

    /** The runner may be gone: the call's future ends interrupted here after `stopCallMillis` all the same. */
    const stopCall: StopCall = (entity, batch, index) =>
      clientFor(entity).InterruptCall({ batch, index }).pipe(Effect.timeoutOption(stopCallMillis), Effect.ignore)

    const observer = new ExecutorObserver("Cluster", name)
    const pool = new ClusterPool({
      name,
      maxWorkers: maxInFlight,
      entities,
      send,
      stopCall,
      batchSize: Math.max(1, Math.floor(maxInFlight / batchDivisor)),
      mapPacing: clusterPacing,
      observer,
      admission: policy.maxQueue === undefined ? undefined : new Admission("Cluster", policy.maxQueue, policy.whenFull),
      context
    })
    return yield* makeService({
      kind: "Cluster",
      name,
      pool,
      observer,
      context,
      failOnUnobserved: policy.failOnUnobserved
    })
  }).pipe(check.namingOptionErrors("ClusterExecutor"))

/**
 * The client as a layer over the `SqlClient` in context: a client-only
 * member of the cluster (it hosts no shards) that provides `Executor`.
 */
/** @internal */
export const layer = (
  options: ClientOptions = {}
): Layer.Layer<Executor.Executor, Cause.IllegalArgumentError, SqlClient.SqlClient> =>
  Layer.effect(
    Executor.Executor,
    make(options) as Effect.Effect<
      Executor.Service,
      Cause.IllegalArgumentError,
      Scope.Scope | Sharding.Sharding | RunnerStorage.RunnerStorage
    >
  ).pipe(
    Layer.provide(
      SocketRunner.layerClientOnly.pipe(
        Layer.provideMerge(storage),
        Layer.provide(transport),
        Layer.provide(shardingConfig(options, {}))
      )
    )
  )
