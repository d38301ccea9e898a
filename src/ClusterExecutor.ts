/**
 * The same `Executor` over several machines, on `effect/cluster`: runners
 * host a local pool and run the Tasks they were started with; a client layer
 * provides `Executor.Executor` and sends each call to the runner that holds
 * its shard. Runners find each other, and clients find runners, through a
 * shared SQL storage (a SQLite file on one host, Postgres across machines).
 *
 * Beyond Python, whose `concurrent.futures` stops at one machine (users move
 * to Dask or Ray).
 *
 * A subpath of its own, `effect-futures/ClusterExecutor`, since it needs
 * `@effect/platform-node` (an optional peer dependency) and the cluster
 * engine, which the local pools, and every worker that imports the package's
 * root, do without.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Executor, Future } from "effect-futures"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 * import { isPrime } from "./primes.ts" // a Task the runners were started with
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(isPrime, 112272535095293)
 *   return yield* Future.result(future)
 * }).pipe(
 *   Effect.provide(ClusterExecutor.layer().pipe(Layer.provide(ClusterExecutor.layerSqlite({ filename: "cluster.db" }))))
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as SqlClient from "effect/sql/SqlClient"
import type * as SqlError from "effect/sql/SqlError"
import * as Executor from "./Executor.ts"
import * as client from "./internal/cluster/client.ts"
import { type OnRunnerDeath, RunnerDeathKey, SchemasKey } from "./internal/cluster/codec.ts"
import * as runner from "./internal/cluster/runner.ts"
import * as sqlite from "./internal/cluster/sqlite.ts"
import type { Task } from "./Task.ts"

/**
 * Options of the client `layer` and `make`.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 *
 * const options: ClusterExecutor.Options = {
 *   runnerTimeout: "10 seconds", // no runner that long: the call fails with BrokenExecutor
 *   maxInFlight: 128, // calls out at once; the rest wait, PENDING
 *   maxQueue: 10_000, // and at most this many wait
 *   shardLockExpiration: "10 seconds" // the same on every runner and client
 * }
 * const layer = ClusterExecutor.layer(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Options extends client.ClientOptions {}

/**
 * Options of a runner: where it listens, the Tasks it runs (its allowlist),
 * and the pool it runs them on.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { InterpreterPoolExecutor } from "effect-futures"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 * import { isPrime, resize } from "./tasks.ts"
 *
 * const options: ClusterExecutor.RunnerOptions = {
 *   tasks: [isPrime, resize], // only these run here
 *   host: "0.0.0.0",
 *   port: 34431,
 *   advertiseHost: "worker-3.internal", // how the other machines reach this one
 *   pool: InterpreterPoolExecutor.layer({ maxWorkers: 8, onWorkerDeath: "replace" })
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RunnerOptions extends runner.RunnerOptions {}

/**
 * Options of `layerSqlite`.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 *
 * const options: ClusterExecutor.SqliteOptions = { filename: "/var/lib/app/cluster.db", busyTimeout: "5 seconds" }
 * const storage = ClusterExecutor.layerSqlite(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface SqliteOptions extends sqlite.SqliteOptions {}

/**
 * The cluster's client as a layer: provides `Executor.Executor` over the
 * runners that share the storage of the `SqlClient` it is given. Closing it
 * waits for the calls out, as `shutdown({ wait: true })`.
 *
 * Beyond Python.
 *
 * **Details**
 *
 * Only Tasks run on a cluster, and only those the runners registered:
 * anything else fails its future with `UnknownTask`. Arguments and results
 * cross as JSON: through the Task's Schemas (`withSchemas`), or as plain JSON
 * that arrives exactly as sent; any other value fails its future with
 * `SerializationError`. A call whose runner dies runs again on another
 * (at-least-once). With no runner registered, a call fails with
 * `BrokenExecutor` after `runnerTimeout`.
 *
 * The `SqlClient` is the storage the client and every runner share: a SQLite
 * file (`layerSqlite`) on one host, a Postgres database through
 * `@effect/sql-pg` (`PgClient.layer`, a package of its own to install) across
 * machines.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Executor, Future } from "effect-futures"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 * import { isPrime } from "./tasks.ts" // a Task the runners were started with
 *
 * const program = Effect.gen(function* () {
 *   const future = yield* Executor.submit(isPrime, 112272535095293)
 *   return yield* Future.result(future)
 * }).pipe(
 *   Effect.provide(ClusterExecutor.layer().pipe(Layer.provide(ClusterExecutor.layerSqlite({ filename: "cluster.db" }))))
 * )
 * ```
 *
 * @example
 * ```ts
 * // Runners on several machines: the client and every runner on one Postgres database.
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 *
 * const storage = PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) })
 * const executor = ClusterExecutor.layer().pipe(Layer.provide(storage))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options?: Options
): Layer.Layer<Executor.Executor, Cause.IllegalArgumentError, SqlClient.SqlClient> => client.layer(options)

/**
 * A cluster client that lives as long as the current `Scope`, for programs
 * holding several executors.
 *
 * Beyond Python.
 *
 * **Details**
 *
 * The `SqlClient` must outlive the scope: provide its layer around the
 * `Effect.scoped` (as below), not around `make` alone, which would close the
 * storage as soon as `make` returns.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Future } from "effect-futures"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 * import { isPrime } from "./tasks.ts"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const cluster = yield* ClusterExecutor.make({ runnerTimeout: "5 seconds" })
 *     const future = yield* cluster.submit(isPrime, 97)
 *     return yield* Future.result(future)
 *   })
 * ).pipe(Effect.provide(ClusterExecutor.layerSqlite({ filename: "cluster.db" })))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options?: Options
): Effect.Effect<Executor.Service, Cause.IllegalArgumentError, Scope.Scope | SqlClient.SqlClient> =>
  Effect.map(Layer.build(client.layer(options)), (context) => Context.get(context, Executor.Executor))

/**
 * A runner as a layer: while it lives, it listens, is registered in the
 * storage, holds its share of the shards and runs the calls sent to them on
 * its local pool. Closing it (SIGTERM under `NodeRuntime.runMain`) finishes
 * the calls it is running, stores their replies and hands its shards off.
 * It needs the same `SqlClient` storage as the clients (`layerSqlite`, or
 * `@effect/sql-pg`'s `PgClient.layer` across machines).
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 * import { isPrime, resize } from "./tasks.ts"
 *
 * ClusterExecutor.layerRunner({ tasks: [isPrime, resize], host: "0.0.0.0", port: 34431 }).pipe(
 *   Layer.provide(ClusterExecutor.layerSqlite({ filename: "cluster.db" })),
 *   Layer.launch,
 *   NodeRuntime.runMain
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRunner = (options: RunnerOptions): Layer.Layer<never, unknown, SqlClient.SqlClient> =>
  runner.layer(options)

/**
 * The cluster's embedded storage: an `SqlClient` on a SQLite file through
 * Node's built-in `node:sqlite`, for runners and clients on one host (and for
 * tests). Every runner and client of the cluster opens the same file.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as ClusterExecutor from "effect-futures/ClusterExecutor"
 *
 * const storage = ClusterExecutor.layerSqlite({ filename: "/tmp/cluster.db" })
 * const executor = ClusterExecutor.layer().pipe(Layer.provide(storage))
 * ```
 *
 * @category storage
 * @since 0.1.0
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError> =>
  sqlite.layer(options)

/**
 * The Schemas a Task's arguments and result cross a cluster with.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import type * as ClusterExecutor from "effect-futures/ClusterExecutor"
 *
 * const schemas: ClusterExecutor.Schemas<[since: Date], ReadonlyMap<string, number>> = {
 *   args: Schema.Tuple([Schema.Date]),
 *   success: Schema.ReadonlyMap(Schema.String, Schema.Number)
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Schemas<Args extends ReadonlyArray<unknown>, A> {
  /** The arguments, as one tuple: `Schema.Tuple([...])`. */
  readonly args?: Schema.Codec<Readonly<Args>, any> | undefined
  /** The result. */
  readonly success?: Schema.Codec<A, any> | undefined
}

/**
 * Gives a Task Schemas for its arguments and result, so values that plain
 * JSON would change (a `Date`, a `Map`, a `Set`, a `Uint8Array`, a class)
 * cross a cluster as themselves. Export the returned Task (under the same
 * name) and register that one on the runners: both sides use its Schemas. It
 * runs on every other executor as the Task it wraps.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ClusterExecutor, Task } from "effect-futures"
 *
 * export const countSince = ClusterExecutor.withSchemas(
 *   Task.make(import.meta.url, "countSince", (since: Date) => new Map([[since.toISOString(), 1]])),
 *   { args: Schema.Tuple([Schema.Date]), success: Schema.ReadonlyMap(Schema.String, Schema.Number) }
 * )
 * ```
 *
 * @category schemas
 * @since 0.1.0
 */
export const withSchemas = <Args extends ReadonlyArray<unknown>, A, E>(
  task: Task<Args, A, E>,
  schemas: Schemas<Args, A>
): Task<Args, A, E> => ({ ...task, [SchemasKey]: schemas }) as Task<Args, A, E>

/**
 * Chooses what a call of this Task does if its runner dies before it answers:
 * `"rerun"` runs it again on the shard's next owner (at-least-once, the
 * executor's default), `"fail"` fails its future with `WorkerDied`
 * (`kind: "Cluster"`) instead, for work that must not run twice. Export the
 * returned Task and register that one on the runners. It overrides the
 * executor's `onRunnerDeath` option.
 *
 * Beyond Python.
 *
 * **Details**
 *
 * With `"fail"` a runner records each call's id in the storage as it starts
 * it; a runner that finds the id already there (an earlier runner started the
 * call and died) fails the call instead of running it. A call that could not
 * be recorded does not run.
 *
 * @example
 * ```ts
 * import { ClusterExecutor, Task } from "effect-futures"
 *
 * export const charge = ClusterExecutor.onRunnerDeath(
 *   Task.make(import.meta.url, "charge", (account: string, cents: number) => ({ account, cents })),
 *   "fail"
 * )
 * ```
 *
 * @category faults
 * @since 0.1.0
 */
export const onRunnerDeath = <Args extends ReadonlyArray<unknown>, A, E>(
  task: Task<Args, A, E>,
  choice: "rerun" | "fail"
): Task<Args, A, E> => ({ ...task, [RunnerDeathKey]: choice satisfies OnRunnerDeath }) as Task<Args, A, E>
