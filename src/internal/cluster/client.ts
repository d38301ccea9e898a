import { randomUUID } from "node:crypto"
/**
 * The client side of a cluster: an `Executor` whose calls are messages to the
 * cluster's `effect-futures/Task` entity. A call waits in this process
 * (PENDING, cancellable) until fewer than `maxInFlight` calls are out, then is
 * sent (RUNNING) to one of a fixed set of entity ids, which the cluster's
 * shards spread over the runners. Its arguments are encoded here, so a value
 * that would not arrive exactly fails its future before anything is sent.
 *
 * No runner registered: a call waits `runnerTimeout` for one, then fails with
 * `BrokenExecutor`; so do the calls out while no runner has been seen for as
 * long. The executor itself is not broken by it: runners may come back.
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
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as SqlClient from "effect/sql/SqlClient"
import { BrokenExecutor, ExecutorShutdownError, QueueFull, type SerializationError, UnknownTask } from "../../Errors.ts"
import * as Executor from "../../Executor.ts"
import type * as Future from "../../Future.ts"
import { isTask, type Task } from "../../Task.ts"
import { splitMapArgs } from "../executor/map.ts"
import * as core from "../future/state.ts"
import { reportUnobserved, Unobserved } from "../policy/unobserved.ts"
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

/** A checked task policy (`submitWith`'s options). */
interface Policy {
  readonly priority: number
  readonly timeout: Duration.Duration | undefined
  readonly retries: Schedule.Schedule<unknown, unknown> | undefined
  readonly signal: AbortSignal | undefined
}

const noPolicy: Policy = { priority: 0, timeout: undefined, retries: undefined, signal: undefined }

/** One message to send: a single call, or a `map` chunk whose future holds one Exit per call. */
interface Call {
  readonly future: core.FutureImpl<any, any>
  readonly task: Task<any, any, any>
  readonly calls: ReadonlyArray<WireArgs>
  readonly chunk: boolean
  readonly policy: Policy
}

const badOption = (what: string, expected: string, got: unknown): Cause.IllegalArgumentError =>
  new Cause.IllegalArgumentError(
    `${what} must be ${expected}, got ${typeof got === "string" ? JSON.stringify(got) : String(got)}`
  )

const positiveInt = (what: string, u: unknown): Cause.IllegalArgumentError | undefined =>
  typeof u === "number" && Number.isInteger(u) && u > 0
    ? undefined
    : badOption(what, "a whole number greater than 0", u)

const duration = (
  what: string,
  u: Duration.Input | undefined
): Duration.Duration | undefined | Cause.IllegalArgumentError => {
  if (u === undefined) return undefined
  const d = Duration.fromInput(u)
  return d._tag === "Some" && Duration.isFinite(d.value) && Duration.toMillis(d.value) >= 0
    ? d.value
    : badOption(what, 'a finite duration such as "5 seconds" or 500 (ms)', u)
}

const checkPolicy = (options: Executor.SubmitOptions): Policy | Cause.IllegalArgumentError => {
  if (typeof options !== "object" || options === null) {
    return badOption("submitWith: options", "an object such as { priority: 1 }", options)
  }
  const priority = options.priority ?? 0
  if (typeof priority !== "number" || !Number.isFinite(priority)) {
    return badOption("submitWith: priority", "a finite number (higher runs first, default 0)", priority)
  }
  const timeout = duration("submitWith: timeout", options.timeout)
  if (Cause.isIllegalArgumentError(timeout)) return timeout
  let retries: Schedule.Schedule<unknown, unknown> | undefined
  if (typeof options.retries === "number") {
    if (!Number.isInteger(options.retries) || options.retries < 0) {
      return badOption("submitWith: retries", "a whole number of retries (0 or more) or a Schedule", options.retries)
    }
    retries = options.retries === 0 ? undefined : Schedule.recurs(options.retries)
  } else if (options.retries !== undefined) {
    if (!Schedule.isSchedule(options.retries)) {
      return badOption("submitWith: retries", "a whole number of retries (0 or more) or a Schedule", options.retries)
    }
    retries = options.retries as Schedule.Schedule<unknown, unknown>
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    return badOption("submitWith: signal", "an AbortSignal", options.signal)
  }
  return { priority, timeout, retries, signal: options.signal }
}

/** Pending calls, higher priority first, then in submit order. */
class PendingQueue {
  private readonly buckets = new Map<number, { items: Array<Call>; head: number }>()
  /** Priorities that have a bucket, highest first. */
  private priorities: Array<number> = []
  size = 0

  push(call: Call): void {
    let bucket = this.buckets.get(call.policy.priority)
    if (bucket === undefined) {
      bucket = { items: [], head: 0 }
      this.buckets.set(call.policy.priority, bucket)
      this.priorities.push(call.policy.priority)
      this.priorities.sort((a, b) => b - a)
    }
    bucket.items.push(call)
    this.size++
  }

  shift(): Call | undefined {
    for (const priority of this.priorities) {
      const bucket = this.buckets.get(priority)!
      if (bucket.head < bucket.items.length) {
        const call = bucket.items[bucket.head]
        bucket.items[bucket.head++] = undefined as unknown as Call
        if (bucket.head > 1024 && bucket.head * 2 > bucket.items.length) {
          bucket.items = bucket.items.slice(bucket.head)
          bucket.head = 0
        }
        this.size--
        return call
      }
    }
    return undefined
  }

  drain(): Array<Call> {
    const all: Array<Call> = []
    for (let call = this.shift(); call !== undefined; call = this.shift()) all.push(call)
    return all
  }
}

let executorCount = 0

/** The client executor, with the cluster's sharding and runner storage in context. */
/** @internal */
export const make = (options: ClientOptions = {}) =>
  Effect.gen(function* () {
    const runnerTimeout = duration("ClusterExecutor: runnerTimeout", options.runnerTimeout) ?? Duration.seconds(30)
    if (Cause.isIllegalArgumentError(runnerTimeout)) return yield* Effect.fail(runnerTimeout)
    const maxInFlight = options.maxInFlight ?? 256
    const entities = options.entities ?? 64
    for (const bad of [
      positiveInt("ClusterExecutor: maxInFlight", maxInFlight),
      positiveInt("ClusterExecutor: entities", entities),
      options.maxQueue === undefined ? undefined : positiveInt("ClusterExecutor: maxQueue", options.maxQueue)
    ]) {
      if (bad) return yield* Effect.fail(bad)
    }
    const onRunnerDeath = options.onRunnerDeath ?? "rerun"
    if (onRunnerDeath !== "rerun" && onRunnerDeath !== "fail") {
      return yield* Effect.fail(badOption("ClusterExecutor: onRunnerDeath", '"rerun" or "fail"', onRunnerDeath))
    }
    const whenFull = options.whenFull ?? "suspend"
    if (whenFull !== "suspend" && whenFull !== "reject") {
      return yield* Effect.fail(badOption("ClusterExecutor: whenFull", '"suspend" or "reject"', whenFull))
    }
    const name = options.name ?? `ClusterExecutor-${++executorCount}`
    const runnerStorage = yield* RunnerStorage.RunnerStorage
    const clientFor = yield* TaskEntity.client
    const scope = yield* Effect.scope
    const context = (yield* Effect.context<never>()) as Context.Context<never>
    const runFork = Effect.runForkWith(context)

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
      Effect.forkIn(scope)
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

    // -- calls ---------------------------------------------------------------------------------
    let closed = false
    const pending = new PendingQueue()
    /** Every future not yet done: what shutdown waits for. */
    const live = new Set<core.FutureImpl<any, any>>()
    const running = new Set<Fiber.Fiber<unknown, unknown>>()
    const unobserved = new Unobserved()
    /** Submitters waiting for room in a full queue (`maxQueue` with `whenFull: "suspend"`). */
    const roomWaiters = new Set<() => void>()
    let inFlight = 0
    let nextEntity = 0

    const settle = (f: core.FutureImpl<any, any>, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
      return core.endUnsafe(f, exit) ? core.doneCallbacks(f) : Effect.void
    }
    /** What the client's futures are told: their end (they leave `live`), and a failure nobody looked at. */
    const owner: core.FutureOwner = {
      unobserved,
      onEnd: (done) => {
        live.delete(done)
      }
    }

    const brokenBy = (error: { readonly _tag: string; readonly message: string }) =>
      new BrokenExecutor({
        kind: "Cluster",
        reason: `${name}: the cluster could not take the call (${error._tag}: ${error.message})`,
        cause: error
      })

    /** One attempt: wait for a runner, send, decode the reply into the calls' Exits. */
    const attempt = (call: Call): Effect.Effect<ReadonlyArray<Exit.Exit<unknown, unknown>>, BrokenExecutor> =>
      Effect.andThen(
        waitForRunner,
        Effect.suspend(() => {
          const client = clientFor(String(nextEntity++ % entities))
          return client
            .Run({
              module: call.task.module,
              name: call.task.name,
              chunk: call.chunk,
              calls: call.calls as unknown as ReadonlyArray<Schema.Json>,
              // A fresh id per attempt: a retry (submitWith's retries) is a new call.
              once: (onRunnerDeathOf(call.task) ?? onRunnerDeath) === "fail" ? randomUUID() : null
            })
            .pipe(
              Effect.catch((error) => Effect.fail(brokenBy(error))),
              whileRunners,
              Effect.map((replies) =>
                replies.map((wire) => {
                  try {
                    return decodeExit(call.task, wire as unknown as WireExit)
                  } catch (cause) {
                    return Exit.die(cause)
                  }
                })
              )
            )
        })
      )

    /** A single call under its policy: each attempt bounded by `timeout`; failures retried as `retries` allows. */
    const runSingle = (call: Call): Effect.Effect<unknown, unknown> => {
      const once = Effect.flatMap(
        attempt(call),
        (exits) => exits[0] ?? Exit.die(new Error("ClusterExecutor: an empty reply"))
      )
      const timeout = call.policy.timeout
      const timed =
        timeout === undefined
          ? once
          : Effect.timeoutOrElse(once, {
              duration: timeout,
              orElse: () =>
                Effect.fail(
                  new Cause.TimeoutError(
                    `the task did not finish within its timeout of ${Duration.format(timeout)}; it was interrupted`
                  )
                )
            })
      const retries = call.policy.retries
      if (retries === undefined) return timed
      return Effect.flatMap(Schedule.toStepWithSleep(retries), (step) => {
        const loop: Effect.Effect<unknown, unknown> = Effect.catchCause(timed, (cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause)
            : Effect.matchCauseEffect(step(Cause.squash(cause)), {
                onFailure: () => Effect.failCause(cause),
                onSuccess: () => loop
              })
        )
        return loop
      })
    }

    const start = (call: Call): void => {
      inFlight++
      const f = call.future
      const work = call.chunk ? attempt(call) : runSingle(call)
      const fiber = runFork(
        Effect.onExit(work, (exit) =>
          Effect.suspend(() => {
            inFlight--
            running.delete(fiber)
            dispatch()
            return settle(f, exit)
          })
        )
      )
      running.add(fiber)
      // Future.interrupt: interrupting the call's fiber sends the interrupt to the runner running it.
      f.interruptor = Effect.asVoid(Fiber.interrupt(fiber))
    }

    /** Sends pending calls while fewer than `maxInFlight` are out; a cancelled one is only notified. */
    const dispatch = (): void => {
      while (inFlight < maxInFlight) {
        const call = pending.shift()
        if (call === undefined) break
        wakeRoom()
        if (core.setRunningOrNotifyCancelUnsafe(call.future) !== true) continue
        start(call)
      }
    }

    const wakeRoom = (): void => {
      const waiter = roomWaiters.values().next().value
      if (waiter !== undefined) {
        roomWaiters.delete(waiter)
        waiter()
      }
    }

    const hasRoom = () => options.maxQueue === undefined || pending.size < options.maxQueue

    /** Makes the future, queues the call, and returns the future once there is room. */
    const enqueue = (
      build: (future: core.FutureImpl<any, any>) => Call | Exit.Exit<unknown, unknown>,
      policy: Policy
    ): Effect.Effect<core.FutureImpl<any, any>, Executor.SubmitError> =>
      Effect.suspend(() => {
        if (closed) {
          return Effect.fail(new ExecutorShutdownError({ message: "cannot schedule new futures after shutdown" }))
        }
        if (!hasRoom()) {
          if (whenFull === "reject") {
            return Effect.fail(
              new QueueFull({
                kind: "Cluster",
                maxQueue: options.maxQueue!,
                message: `${name}: ${pending.size} calls are waiting (maxQueue ${options.maxQueue}); try again later`
              })
            )
          }
          return Effect.flatMap(
            Effect.callback<void>((resume) => {
              const wake = () => resume(Effect.void)
              roomWaiters.add(wake)
              return Effect.sync(() => roomWaiters.delete(wake))
            }),
            () => enqueue(build, policy)
          )
        }
        const f = new core.FutureImpl<any, any>(owner)
        live.add(f)
        const call = build(f)
        if (Exit.isExit(call)) return Effect.as(settle(f, call), f)
        if (policy.signal !== undefined) watchSignal(f, policy.signal)
        pending.push(call)
        dispatch()
        return Effect.succeed(f)
      })

    /** An abort cancels the call while pending, interrupts it while running. */
    const watchSignal = (f: core.FutureImpl<any, any>, signal: AbortSignal): void => {
      const onAbort = () => {
        runFork(
          Effect.suspend(() =>
            f.state === "RUNNING" && f.interruptor !== undefined
              ? f.interruptor
              : core.cancelUnsafe(f)
                ? core.doneCallbacks(f)
                : Effect.void
          )
        )
      }
      if (signal.aborted) {
        onAbort()
        return
      }
      signal.addEventListener("abort", onAbort, { once: true })
      ;(f.callbacks ??= []).push(() => Effect.sync(() => signal.removeEventListener("abort", onAbort)))
    }

    const notRunnable = (task: unknown): UnknownTask =>
      new UnknownTask({
        module: "",
        name: typeof task === "function" ? task.name || "(anonymous function)" : "(an Effect)",
        message: `${name}: a cluster runs Tasks only (Task.make, registered on the runners); a function or an Effect cannot cross machines`
      })

    const submitWithPolicy =
      (policy: Policy) =>
      (task: unknown, ...args: Array<unknown>) =>
        Effect.map(
          enqueue((future): Call | Exit.Exit<unknown, unknown> => {
            if (!isTask(task)) return Exit.fail(notRunnable(task))
            const wire = encodeArgs(task, args)
            if (!("values" in wire || "encoded" in wire)) return Exit.fail(wire as SerializationError)
            return { future, task, calls: [wire], chunk: false, policy }
          }, policy),
          (f) => f as unknown as Future.Future<unknown, unknown>
        )

    const submit = submitWithPolicy(noPolicy) as unknown as Executor.Service["submit"]

    const submitWith = ((options: Executor.SubmitOptions) => {
      const policy = checkPolicy(options)
      if (Cause.isIllegalArgumentError(policy)) {
        return () => Effect.die(policy)
      }
      return submitWithPolicy(policy)
    }) as unknown as Executor.Service["submitWith"]

    const map = ((task: unknown, ...rest: Array<unknown>) =>
      mapStream(
        task,
        rest,
        (t, unit, chunk) =>
          enqueue((future): Call | Exit.Exit<unknown, unknown> => {
            const calls: Array<WireArgs> = []
            for (const args of unit) {
              const wire = encodeArgs(t, args)
              if (!("values" in wire || "encoded" in wire)) {
                return chunk ? Exit.succeed([Exit.fail(wire)]) : Exit.fail(wire)
              }
              calls.push(wire)
            }
            return { future, task: t, calls, chunk, policy: noPolicy }
          }, noPolicy),
        notRunnable
      )) as unknown as Executor.Service["map"]

    const waitAll = Effect.suspend(() => Effect.forEach(Array.from(live), (f) => core.awaitDone(f), { discard: true }))

    const cancelPending = Effect.suspend(() =>
      Effect.forEach(
        pending.drain(),
        (call) => {
          const won = core.cancelUnsafe(call.future)
          core.setRunningOrNotifyCancelUnsafe(call.future)
          return won ? core.doneCallbacks(call.future) : Effect.void
        },
        { discard: true }
      )
    )

    const shutdown = (shutdownOptions?: Executor.ShutdownOptions): Effect.Effect<void> =>
      Effect.suspend(() => {
        closed = true
        for (const wake of roomWaiters) wake()
        roomWaiters.clear()
        const cancel = shutdownOptions?.cancelFutures === true ? cancelPending : Effect.void
        return shutdownOptions?.wait === false ? cancel : Effect.andThen(cancel, waitAll)
      })

    yield* Scope.addFinalizerExit(scope, (exit) =>
      Effect.gen(function* () {
        if (Exit.isFailure(exit) && Cause.hasInterrupts(exit.cause)) {
          // An interrupted scope stops what it started, as the pools do.
          closed = true
          yield* cancelPending
          yield* Effect.forEach(Array.from(running), Fiber.interrupt, { discard: true })
        } else {
          yield* shutdown({ wait: true })
        }
        yield* reportUnobserved("Cluster", name, unobserved, options.failOnUnobserved === true)
      })
    )

    const service: Executor.Service = { kind: "Cluster", name, submit, submitWith, map, shutdown }
    return service
  })

// -- map --------------------------------------------------------------------------------------------

/** Python's `zip(*iterables)`, `chunksize` calls at a time. */
function* units(iterables: ReadonlyArray<Iterable<unknown>>, size: number): Generator<Array<ReadonlyArray<unknown>>> {
  if (iterables.length === 0) return
  const iterators = iterables.map((it) => it[Symbol.iterator]())
  let unit: Array<ReadonlyArray<unknown>> = []
  try {
    while (true) {
      const args: Array<unknown> = []
      for (const it of iterators) {
        const next = it.next()
        if (next.done) {
          if (unit.length > 0) yield unit
          return
        }
        args.push(next.value)
      }
      unit.push(args)
      if (unit.length === size) {
        yield unit
        unit = []
      }
    }
  } finally {
    for (const it of iterators) it.return?.()
  }
}

/**
 * Python's `Executor.map` over the cluster: one message per `chunksize` calls,
 * results in input order. Without `buffersize` every message is sent when the
 * stream starts; with it, `buffersize` messages are sent at the first pull and
 * one more for each taken, so an endless iterable works. The timeout counts
 * from when the stream starts; closing the stream cancels the calls not sent.
 */
const mapStream = (
  task: unknown,
  rest: ReadonlyArray<unknown>,
  submitUnit: (
    task: Task<any, any, any>,
    unit: ReadonlyArray<ReadonlyArray<unknown>>,
    chunk: boolean
  ) => Effect.Effect<core.FutureImpl<any, any>, Executor.SubmitError>,
  notRunnable: (task: unknown) => UnknownTask
): Stream.Stream<unknown, unknown> =>
  Stream.suspend(() => {
    const { iterables, options } = splitMapArgs(rest)
    const chunksize = options.chunksize ?? 1
    const bad =
      positiveInt("map: chunksize", chunksize) ??
      (options.buffersize === undefined ? undefined : positiveInt("map: buffersize", options.buffersize))
    if (bad) return Stream.fail(bad)
    const timeout = duration("map: timeout", options.timeout)
    if (Cause.isIllegalArgumentError(timeout)) return Stream.fail(timeout)
    const notIterable = iterables.findIndex((it) => it == null || typeof (it as any)[Symbol.iterator] !== "function")
    if (notIterable >= 0) {
      return Stream.fail(new Cause.IllegalArgumentError(`map: argument ${notIterable + 2} must be an iterable`))
    }
    if (!isTask(task)) return Stream.fail(notRunnable(task))
    const chunk = chunksize > 1
    const ahead = options.buffersize ?? Number.POSITIVE_INFINITY
    const iterator = units(iterables, chunksize)
    let exhausted = false
    /** Sent and not yet taken, oldest first (the stream owns them: their failures end it). */
    const sent: Array<core.FutureImpl<any, any>> = []
    /** A unit's failure, raised at the next pull once the values before it are out. */
    let failure: Cause.Cause<unknown> | undefined
    let deadline: number | undefined

    const close = (): void => {
      if (!exhausted) {
        exhausted = true
        iterator.return(undefined)
      }
    }
    /** Sends units until `ahead` are out or the input ends; a refused submit ends the input. */
    const fill: Effect.Effect<void, Executor.SubmitError> = Effect.suspend(() => {
      if (exhausted || sent.length >= ahead) return Effect.void
      const next = iterator.next()
      if (next.done) {
        exhausted = true
        return Effect.void
      }
      return submitUnit(task, next.value, chunk).pipe(
        Effect.tapError(() => Effect.sync(close)),
        Effect.flatMap((f) => {
          core.observe(f)
          sent.push(f)
          return fill
        })
      )
    })
    /** The oldest unit's calls' Exits, within what is left of the timeout. */
    const exitsOf = (
      f: core.FutureImpl<any, any>
    ): Effect.Effect<ReadonlyArray<Exit.Exit<unknown, unknown>>, unknown> => {
      const waiting = chunk
        ? (core.awaitResult(f) as Effect.Effect<ReadonlyArray<Exit.Exit<unknown, unknown>>, unknown>)
        : Effect.map(Effect.exit(core.awaitResult(f)), (exit) => [exit])
      return deadline === undefined
        ? waiting
        : Effect.timeoutOrElse(waiting, {
            duration: Math.max(0, deadline - Date.now()),
            orElse: () => Effect.fail(new Cause.TimeoutError("map: the next result was not ready in time"))
          })
    }
    const pull: Effect.Effect<ReadonlyArray<unknown>, unknown> = Effect.suspend(() => {
      if (failure !== undefined) return Effect.failCause(failure)
      return Effect.andThen(
        fill,
        Effect.suspend(() => {
          const head = sent[0]
          if (head === undefined) return Cause.done()
          return Effect.flatMap(exitsOf(head), (exits) => {
            sent.shift()
            const values: Array<unknown> = []
            for (const exit of exits) {
              if (Exit.isFailure(exit)) {
                failure = exit.cause
                break
              }
              values.push(exit.value)
            }
            return values.length > 0 ? Effect.succeed(values) : Effect.failCause(failure!)
          })
        })
      )
    })
    const start = Effect.sync(() => {
      deadline = timeout === undefined ? undefined : Date.now() + Duration.toMillis(timeout)
      return pull as Effect.Effect<readonly [unknown, ...Array<unknown>], unknown>
    })
    // Closing the stream, early or at a failure, cancels what has not been sent, as the pools' map does.
    const finish = Effect.suspend(() => {
      close()
      const pending = sent.splice(0)
      return Effect.forEach(pending, (f) => (core.cancelUnsafe(f) ? core.doneCallbacks(f) : Effect.void), {
        discard: true
      })
    })
    return Stream.fromPull(start).pipe(Stream.ensuring(finish))
  })

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
