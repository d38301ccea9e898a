/**
 * The cluster entity both sides share: `Run`, carrying a Task's module and
 * name and its calls' arguments, all as JSON (see `codec.ts`); `InterruptCall`,
 * which stops one call or chunk of a message of several; and the cluster wiring
 * (storage, transport, sharding settings) a runner and a client assemble alike.
 *
 * `Run` is persisted: the call is written to the message storage before it is
 * sent, so a call whose runner dies is read again by the shard's next owner
 * (at-least-once), a runner told to stop finishes its calls and stores their
 * replies, and a caller whose runner went away reads the reply from storage.
 *
 * @internal
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as SqlMessageStorage from "effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "effect/cluster/SqlRunnerStorage"
import type * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Rpc from "effect/rpc/Rpc"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as Schema from "effect/Schema"

/** The entity type under which runners register; one cluster storage can serve one such executor. */
/** @internal */
export const entityType = "effect-futures/Task"

/**
 * A list of JSON values that crosses as one JSON text: the transport and the
 * message storage copy a single string instead of walking every value (the
 * values are plain JSON already, checked by `codec.ts`).
 */
const JsonList = Schema.fromJsonString(
  Schema.declare((u): u is ReadonlyArray<Schema.Json> => Array.isArray(u), { expected: "an array of JSON values" })
)

/**
 * One message: a Task and the arguments of its calls: independent calls
 * (`chunks: null`: one, or several the client sent together, each run on its
 * own; the reply lists one `WireExit` per call) or `map` chunks (`chunks` their
 * sizes, the calls one chunk after the other; the reply lists, per chunk, its
 * `WireExit`s up to its first failure).
 */
/** @internal */
export const Run = Rpc.make("Run", {
  payload: {
    module: Schema.String,
    name: Schema.String,
    chunks: Schema.NullOr(Schema.Array(Schema.Int)),
    calls: JsonList,
    /** Set for a call that must not run twice (`onRunnerDeath: "fail"`): its id, recorded when it starts. */
    once: Schema.NullOr(Schema.String),
    /**
     * Set for a message of several calls or chunks sent together: its id, which `InterruptCall`
     * names to stop one of them.
     */
    batch: Schema.NullOr(Schema.String)
  },
  success: JsonList
}).annotate(ClusterSchema.Persisted, true)

/**
 * Stops the call or chunk at `index` of the message of several `batch`
 * (`Future.interrupt` of that call alone), sent to the message's entity id; the
 * message's other calls run on. It answers once the call has stopped. Not persisted: it means
 * nothing once its message has ended.
 */
/** @internal */
export const InterruptCall = Rpc.make("InterruptCall", {
  payload: { batch: Schema.String, index: Schema.Number }
})

/**
 * The client's RPC spans are off: a finished span keeps the call's Exit (so
 * its result) in fibers that live as long as the client, and costs every call.
 */
/** @internal */
export const TaskEntity = Entity.make(entityType, [Run, InterruptCall]).annotate(
  ClusterSchema.ClientTracingEnabled,
  false
)

/** What both sides of one cluster must agree on. */
/** @internal */
export interface SharedOptions {
  /**
   * How long a shard lock and a runner's registration last without a refresh:
   * a runner that dies without a word loses its shards (and its calls run
   * elsewhere) this long after its last refresh. The same on every runner and
   * client of one cluster (default 10 seconds).
   */
  readonly shardLockExpiration?: Duration.Input | undefined
  /** Settings of `effect/cluster`'s `ShardingConfig` passed through as they are (advanced). */
  readonly sharding?: Partial<ShardingConfig.ShardingConfig["Service"]> | undefined
}

/** @internal */
export const defaultShardLockExpiration: Duration.Input = "10 seconds"

/** The sharding settings of one side: ours, then the caller's own. */
/** @internal */
export const shardingConfig = (
  options: SharedOptions,
  side: Partial<ShardingConfig.ShardingConfig["Service"]>
): Layer.Layer<ShardingConfig.ShardingConfig> =>
  ShardingConfig.layer({
    shardLockExpiration: options.shardLockExpiration ?? defaultShardLockExpiration,
    // A caller waiting for a reply from storage looks this often. Not only when its runner went
    // away: a runner that read a message from storage before the message's own notice came
    // answers that notice with EntityNotAssignedToRunner, and the caller reads the reply from
    // storage. With calls in flight that happens to a few messages in a hundred (W7), and the
    // engine's default of 200 ms held a whole map up for it. It queries only while replies are awaited.
    entityReplyPollInterval: "20 millis",
    // How soon a client sees a runner join or leave, and a runner rebalances.
    refreshAssignmentsInterval: "1 second",
    // How soon a runner reads messages left in storage (a dead runner's calls, once it has their shard).
    entityMessagePollInterval: "1 second",
    sendRetryInterval: "50 millis",
    ...side,
    ...options.sharding
  })

/** The storages (runners, shard locks, messages) over the `SqlClient` in context. */
/** @internal */
export const storage = Layer.mergeAll(SqlMessageStorage.layer.pipe(Layer.provide(NodeCrypto.layerDigest))).pipe(
  Layer.provideMerge(Layer.orDie(SqlRunnerStorage.layer)),
  Layer.orDie
)

/** The transport: sockets between processes, messages as MessagePack. */
/** @internal */
export const transport = Layer.mergeAll(NodeClusterSocket.layerClientProtocol).pipe(
  Layer.provideMerge(RpcSerialization.layerSchemaBinary())
)
