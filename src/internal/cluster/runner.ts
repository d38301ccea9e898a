/**
 * The runner side of a cluster: it listens on a socket, registers in the
 * shared storage, takes its share of the shards, and runs the calls sent to
 * them on its local pool. Only the Tasks it was started with run; a call
 * naming any other fails with `UnknownTask`, so no remote caller chooses what
 * this process imports.
 *
 * Calls run on the local pool (by default worker threads), never on this
 * process's main thread, which must stay free to refresh its shard locks and
 * answer its sockets.
 *
 * @internal
 */

import type * as Net from "node:net"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as RunnerHealth from "effect/cluster/RunnerHealth"
import * as Runners from "effect/cluster/Runners"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as SocketRunner from "effect/cluster/SocketRunner"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { SocketServer } from "effect/socket/SocketServer"
import * as SqlClient from "effect/sql/SqlClient"
import { UnknownTask, WorkerDied } from "../../Errors.ts"
import * as Executor from "../../Executor.ts"
import * as Future from "../../Future.ts"
import * as InterpreterPoolExecutor from "../../InterpreterPoolExecutor.ts"
import { isTask, type Task } from "../../Task.ts"
import { decodeArgs, encodeExit, encodeKnown, type WireArgs, type WireExit } from "./codec.ts"
import { type SharedOptions, shardingConfig, storage, TaskEntity, transport } from "./entity.ts"

/** Options of a runner. */
/** @internal */
export interface RunnerOptions extends SharedOptions {
  /** The Tasks this runner runs: its allowlist, looked up by module URL and export name. */
  readonly tasks: ReadonlyArray<Task<any, any, any>>
  /** The interface to listen on (default `"localhost"`). */
  readonly host?: string | undefined
  /** The port to listen on; `0` (default) picks a free one, which the runner registers. */
  readonly port?: number | undefined
  /** The host name other machines reach this runner by (default: `host`). */
  readonly advertiseHost?: string | undefined
  /**
   * The executor the calls run on (default: an `InterpreterPoolExecutor` with
   * `onWorkerDeath: "replace"`, so a crashing task fails its own call with
   * `WorkerDied` and the runner stays up).
   */
  readonly pool?: Layer.Layer<Executor.Executor, unknown> | undefined
  /**
   * How long a runner that is told to stop (SIGTERM, its scope closing) or
   * hands a shard to a new runner waits for the calls it is running (default:
   * no limit, so shards moving never interrupt a call). A call still running
   * past it is interrupted and runs again on the shard's next owner.
   */
  readonly drainTimeout?: Duration.Input | undefined
}

/** The allowlist: exact module and name first; across machines, where paths differ, a name that is unique. */
const makeRegistry = (tasks: ReadonlyArray<Task<any, any, any>>) => {
  const byKey = new Map<string, Task<any, any, any>>()
  const byName = new Map<string, Array<Task<any, any, any>>>()
  for (const task of tasks) {
    if (!isTask(task)) {
      throw new TypeError(`ClusterExecutor.layerRunner: tasks must be Tasks (Task.make), got ${typeof task}`)
    }
    byKey.set(`${task.module}\u0000${task.name}`, task)
    const named = byName.get(task.name) ?? []
    named.push(task)
    byName.set(task.name, named)
  }
  return (module: string, name: string): Task<any, any, any> | UnknownTask => {
    const exact = byKey.get(`${module}\u0000${name}`)
    if (exact !== undefined) return exact
    const named = byName.get(name)
    if (named !== undefined && named.length === 1) return named[0]
    return new UnknownTask({
      module,
      name,
      message:
        named === undefined
          ? `the runners do not run the Task ${name} of ${module}: start them with it in their tasks`
          : `the runners have ${named.length} Tasks named ${name} and none of ${module}: give them distinct names`
    })
  }
}

/** One call or chunk of a message of several, where `InterruptCall` finds it: stopped before it starts, or its fiber. */
interface Slot {
  stopped: boolean
  fiber: Fiber.Fiber<unknown> | undefined
}

/** The ending of a call stopped alone. */
const interrupted: WireExit = { _tag: "Interrupt" }

/** One call on the local pool; interrupting it reaches the task there. */
const runOne = (pool: Executor.Service, task: Task<any, any, any>, wire: WireArgs): Effect.Effect<WireExit> => {
  const args = decodeArgs(task, wire)
  if (!Array.isArray(args)) return Effect.succeed(encodeExit(task, Exit.fail(args)))
  return Effect.uninterruptibleMask((restore) =>
    Effect.matchCauseEffect(pool.submit(task, ...args), {
      onFailure: (cause) => Effect.succeed(encodeExit(task, Exit.failCause(cause))),
      onSuccess: (future) =>
        restore(Future.await(future)).pipe(
          Effect.onInterrupt(() => Future.interrupt(future)),
          Effect.map((exit) => encodeExit(task, exit))
        )
    })
  )
}

/**
 * `body`, one call or chunk of a message of several, in a fiber of its own that
 * `InterruptCall` stops alone (`stopped` its reply then); one stopped before it
 * starts does not run. Interrupting the message stops it too, and waits for it.
 */
const inSlot = <A>(slot: Slot, body: Effect.Effect<A>, stopped: A): Effect.Effect<A> =>
  Effect.suspend(() => {
    if (slot.stopped) return Effect.succeed(stopped)
    return Effect.flatMap(Effect.forkChild(body), (fiber) => {
      slot.fiber = fiber
      return Fiber.await(fiber).pipe(
        Effect.onInterrupt(() => Fiber.interrupt(fiber)),
        Effect.map((exit) => (Exit.isSuccess(exit) ? exit.value : stopped))
      )
    })
  })

/** How long an `InterruptCall` that came before its message is kept for it. */
const earlyInterruptMillis = 60_000

/**
 * The messages of several calls running on this runner, by their `batch` id, for
 * `InterruptCall`. An interrupt may come before its message (the message is stored first,
 * the interrupt is not): it is kept a while, and the message starts with that call stopped.
 */
class Batches {
  private readonly running = new Map<string, ReadonlyArray<Slot>>()
  private readonly early = new Map<string, { readonly at: number; readonly indexes: Array<number> }>()

  /** `body` with the message's slots registered while it runs. */
  run<A>(batch: string, size: number, body: (slots: ReadonlyArray<Slot>) => Effect.Effect<A>): Effect.Effect<A> {
    return Effect.suspend(() => {
      const slots: Array<Slot> = Array.from({ length: size }, () => ({ stopped: false, fiber: undefined }))
      for (const index of this.early.get(batch)?.indexes ?? [])
        if (slots[index] !== undefined) slots[index].stopped = true
      this.early.delete(batch)
      this.running.set(batch, slots)
      return Effect.ensuring(
        body(slots),
        Effect.sync(() => this.running.delete(batch))
      )
    })
  }

  /** Stops one call or chunk of a message: at once if it has not started, else its fiber, awaited. */
  interrupt(batch: string, index: number): Effect.Effect<void> {
    return Effect.suspend(() => {
      const slots = this.running.get(batch)
      if (slots === undefined) {
        this.keepEarly(batch, index)
        return Effect.void
      }
      const slot = slots[index]
      if (slot === undefined) return Effect.void
      slot.stopped = true
      return slot.fiber === undefined ? Effect.void : Fiber.interrupt(slot.fiber)
    })
  }

  private keepEarly(batch: string, index: number): void {
    const now = Date.now()
    for (const [id, entry] of this.early) if (now - entry.at > earlyInterruptMillis) this.early.delete(id)
    const entry = this.early.get(batch)
    if (entry === undefined) this.early.set(batch, { at: now, indexes: [index] })
    else entry.indexes.push(index)
  }
}

/**
 * A `map` chunk on the local pool's own `map`, as one chunk: it runs on one
 * local worker, as a chunk does in Python's process pool (splitting it cost a
 * worker message per piece, about 1.4x the time of W7's chunks of 100 tiny
 * calls). The reply stops at the first failure, as the caller's stream does.
 */
const runChunk = (
  pool: Executor.Service,
  task: Task<any, any, any>,
  calls: ReadonlyArray<WireArgs>
): Effect.Effect<ReadonlyArray<WireExit>> => {
  const argsList: Array<ReadonlyArray<unknown>> = []
  for (const wire of calls) {
    const args = decodeArgs(task, wire)
    if (!Array.isArray(args)) return Effect.succeed([encodeExit(task, Exit.fail(args))])
    argsList.push(args)
  }
  const width = argsList.reduce((n, args) => Math.max(n, args.length), 0)
  const iterables = Array.from({ length: width }, (_, i) => argsList.map((args) => args[i]))
  const exits: Array<WireExit> = []
  return (pool.map as (task: unknown, ...rest: Array<unknown>) => Stream.Stream<unknown, unknown>)(task, ...iterables, {
    chunksize: Math.max(1, argsList.length)
  }).pipe(
    Stream.runForEachArray((values) =>
      Effect.sync(() => {
        for (const value of values) exits.push(encodeExit(task, Exit.succeed(value)))
      })
    ),
    Effect.catchCause((cause) => Effect.sync(() => exits.push(encodeExit(task, Exit.failCause(cause))))),
    Effect.map(() => exits)
  )
}

/** A message's calls cut into its `map` chunks, `chunks` their sizes. */
const piecesOf = (
  calls: ReadonlyArray<WireArgs>,
  chunks: ReadonlyArray<number>
): ReadonlyArray<ReadonlyArray<WireArgs>> => {
  let from = 0
  return chunks.map((size) => calls.slice(from, (from += size)))
}

/** Whether chunk sizes are positive and add up to the message's calls. */
const chunksCover = (chunks: ReadonlyArray<number>, calls: number): boolean =>
  chunks.every((size) => size > 0) && chunks.reduce((sum, size) => sum + size, 0) === calls

/** The reply of a message whose every call ends alike: one ending per call, or a list of one per chunk. */
const endAll = (
  payload: { readonly calls: ReadonlyArray<unknown>; readonly chunks: ReadonlyArray<number> | null },
  wire: WireExit
): ReadonlyArray<Schema.Json> =>
  (payload.chunks === null
    ? payload.calls.map(() => wire)
    : payload.chunks.map(() => [wire])) as unknown as ReadonlyArray<Schema.Json>

/** Where runners record the calls that must not run twice (`onRunnerDeath: "fail"`) as they start them. */
const callsTable = "effect_futures_cluster_calls"

/**
 * The record of calls that must not run twice: a call's id is written as it
 * starts; finding it there already means an earlier runner started it and died
 * (its shard came here), so the call fails with `WorkerDied` instead of
 * running again. Records older than a day are dropped when a runner starts.
 */
const makeOnceGuard = Effect.gen(function* () {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const config = yield* ShardingConfig.ShardingConfig
  const self = Option.match(config.runnerAddress, { onNone: () => "?", onSome: (a) => `${a.host}:${a.port}` })
  const table = sql(callsTable)
  yield* sql`CREATE TABLE IF NOT EXISTS ${table} (call_id TEXT PRIMARY KEY, runner TEXT NOT NULL, pid INTEGER NOT NULL, started_at BIGINT NOT NULL)`
  yield* sql`DELETE FROM ${table} WHERE started_at < ${Date.now() - 86_400_000}`
  /** `undefined` when this is the call's first start; else the error it fails with. */
  return (callId: string): Effect.Effect<WorkerDied | undefined, unknown> =>
    Effect.gen(function* () {
      const inserted =
        yield* sql`INSERT INTO ${table} (call_id, runner, pid, started_at) VALUES (${callId}, ${self}, ${process.pid}, ${Date.now()}) ON CONFLICT (call_id) DO NOTHING RETURNING call_id`
      if (inserted.length > 0) return undefined
      const rows = yield* sql<{
        runner: string
        pid: number
      }>`SELECT runner, pid FROM ${table} WHERE call_id = ${callId}`
      const earlier = rows[0]
      return new WorkerDied({
        kind: "Cluster",
        workerId: Number(earlier?.pid ?? 0),
        exitCode: null,
        signal: null,
        message: `the runner ${earlier?.runner ?? "?"} (process ${earlier?.pid ?? "?"}) started this call and stopped before it answered; it is not run again (onRunnerDeath: "fail")`
      })
    })
})

/** The entity's handler, registered with the sharding of this runner. */
const entityLayer = (options: RunnerOptions) => {
  const lookup = makeRegistry(options.tasks)
  // The guard's table and the running messages are one per runner; the handlers below are built per entity.
  return Layer.unwrap(Effect.map(Effect.orDie(makeOnceGuard), (claim) => handlersLayer(lookup, claim, new Batches())))
}

const handlersLayer = (
  lookup: ReturnType<typeof makeRegistry>,
  claim: (callId: string) => Effect.Effect<WorkerDied | undefined, unknown>,
  batches: Batches
) =>
  TaskEntity.toLayer(
    Effect.gen(function* () {
      const pool = yield* Executor.Executor
      /**
       * A message's units, each on its own: its calls, or (`chunks`) its `map` chunks; the reply
       * one entry per unit. In a message of several (`slots`), `InterruptCall` stops one alone.
       */
      const run = (
        task: Task<any, any, any>,
        calls: ReadonlyArray<WireArgs>,
        chunks: ReadonlyArray<number> | null,
        slots: ReadonlyArray<Slot> | undefined
      ): Effect.Effect<ReadonlyArray<Schema.Json>> => {
        const units: ReadonlyArray<Effect.Effect<unknown>> =
          chunks === null
            ? calls.map((wire) => runOne(pool, task, wire))
            : piecesOf(calls, chunks).map((piece) => runChunk(pool, task, piece))
        const stopped = chunks === null ? interrupted : [interrupted]
        return Effect.forEach(units, (unit, i) => (slots === undefined ? unit : inSlot(slots[i], unit, stopped)), {
          concurrency: "unbounded"
        }) as Effect.Effect<ReadonlyArray<Schema.Json>>
      }
      const claimed = (
        task: Task<any, any, any>,
        payload: { readonly calls: ReadonlyArray<unknown>; readonly chunks: ReadonlyArray<number> | null },
        once: string | null,
        body: Effect.Effect<ReadonlyArray<Schema.Json>>
      ): Effect.Effect<ReadonlyArray<Schema.Json>> =>
        once === null
          ? body
          : // Without a record of its start, a call that must not run twice does not run at all.
            // A message's calls start together, so one record stands for all of them.
            Effect.matchCauseEffect(claim(once), {
              onFailure: (cause) => Effect.succeed(endAll(payload, encodeExit(task, Exit.die(Cause.squash(cause))))),
              onSuccess: (died) => (died === undefined ? body : Effect.succeed(endAll(payload, encodeKnown(died))))
            })
      return TaskEntity.of({
        Run: ({ payload }) => {
          const task = lookup(payload.module, payload.name)
          if (task instanceof UnknownTask) return Effect.succeed(endAll(payload, encodeKnown(task)))
          const calls = payload.calls as unknown as ReadonlyArray<WireArgs>
          const { batch, chunks, once } = payload
          if (chunks !== null && !chunksCover(chunks, calls.length)) {
            // A reply all the same: a handler's defect would stop the entity, and the message would come back.
            const error = new Error(
              `ClusterExecutor runner: a message's chunk sizes (${chunks.join(", ")}) do not add up to its ${calls.length} calls`
            )
            return Effect.succeed(endAll(payload, encodeExit(task, Exit.die(error))))
          }
          return batch === null
            ? claimed(task, payload, once, run(task, calls, chunks, undefined))
            : batches.run(batch, chunks?.length ?? calls.length, (slots) =>
                claimed(task, payload, once, run(task, calls, chunks, slots))
              )
        },
        InterruptCall: ({ payload }) => batches.interrupt(payload.batch, payload.index)
      })
    }),
    // The local pool bounds how many calls run at once; the entity only hands them over.
    { concurrency: "unbounded", mailboxCapacity: "unbounded" }
  )

/** The runner's sharding settings, with the address it actually listens on. */
const configFromServer = (options: RunnerOptions) =>
  Layer.effect(ShardingConfig.ShardingConfig)(
    Effect.gen(function* () {
      const server = yield* SocketServer
      const address = server.address
      if (!("port" in address)) return yield* Effect.die("ClusterExecutor runner: the socket is not a TCP socket")
      const host = options.advertiseHost ?? options.host ?? "localhost"
      const drain =
        options.drainTimeout === undefined ? Duration.infinity : Duration.fromInputUnsafe(options.drainTimeout)
      return yield* Effect.map(ShardingConfig.ShardingConfig, (c) => c).pipe(
        Effect.map((config) => ({
          ...config,
          runnerAddress: Option.some(RunnerAddress.make(host, address.port)),
          runnerListenAddress: Option.some(RunnerAddress.make(options.host ?? "localhost", address.port))
        })),
        Effect.provide(shardingConfig(options, { entityTerminationTimeout: drain }))
      )
    })
  )

/**
 * Closes the runner's connections, and every new one at once, when the layer
 * starts to close: before its RPC server stops. Stopping would answer each
 * caller's call with an interruption; a caller whose connection drops instead
 * reads its reply from storage, where the runner leaves it once the call has
 * finished (a drained runner's calls never run twice).
 */
class Sever extends Context.Service<Sever, Effect.Effect<void>>()("effect-futures/ClusterExecutor/Sever") {}

const severableServer = (options: RunnerOptions) =>
  Layer.effectContext(
    Effect.gen(function* () {
      const server = yield* NodeSocketServer.make({ host: options.host ?? "localhost", port: options.port ?? 0 })
      const open = new Set<Net.Socket>()
      let severed = false
      const run = ((handler: (socket: unknown) => Effect.Effect<unknown, unknown, unknown>) =>
        server.run((socket) =>
          Effect.flatMap(NodeSocket.NetSocket, (conn) => {
            if (severed) return Effect.sync(() => conn.destroy())
            open.add(conn)
            conn.once("close", () => open.delete(conn))
            return handler(socket)
          })
        )) as SocketServer["Service"]["run"]
      const sever = Effect.sync(() => {
        severed = true
        for (const conn of open) conn.destroy()
      })
      return Context.make(SocketServer, SocketServer.of({ address: server.address, run })).pipe(
        Context.add(Sever, sever)
      )
    })
  )

/**
 * A runner as a layer: listening, registered and running calls while the
 * layer lives; closing it drains its calls and hands its shards off.
 *
 * The runner lives in a scope of its own, closed by a fiber of its own: the
 * engine's drain waits in interruptible regions, which a scope closed by an
 * interrupted fiber (`NodeRuntime.runMain` on SIGTERM) would cut short,
 * interrupting the very calls it should let finish.
 */
/** @internal */
export const layer = (options: RunnerOptions): Layer.Layer<never, unknown, SqlClient.SqlClient> => {
  const server = severableServer(options)
  const config = configFromServer(options).pipe(Layer.provideMerge(server))
  const health = RunnerHealth.layerPing.pipe(
    Layer.provide(Runners.layerRpc),
    Layer.provide(NodeClusterSocket.layerClientProtocol)
  )
  const sharding = SocketRunner.layer.pipe(
    Layer.provide(health),
    Layer.provideMerge(storage),
    Layer.provide(transport),
    Layer.provideMerge(config)
  )
  // Built after the sharding, so closed before it: the connections go first.
  const severOnClose = Layer.effectDiscard(Effect.flatMap(Sever, (sever) => Effect.addFinalizer(() => sever)))
  const pool = options.pool ?? InterpreterPoolExecutor.layer({ onWorkerDeath: "replace" })
  const runner = Layer.mergeAll(entityLayer(options), severOnClose).pipe(Layer.provide(sharding), Layer.provide(pool))
  return Layer.effectDiscard(
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer((exit) =>
        Effect.flatMap(Effect.forkDetach(Scope.close(scope, exit)), (closing) => Effect.asVoid(Fiber.await(closing)))
      )
      yield* Layer.buildWithScope(runner, scope)
    })
  )
}
