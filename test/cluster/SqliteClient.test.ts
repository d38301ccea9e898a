/**
 * The `node:sqlite` client under the cluster's storages: statements,
 * transactions, 64-bit ids, a second process's write lock, and the runner
 * and message storages of `effect/cluster` on a temp file.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Option, Schema } from "effect"
import * as EntityAddress from "effect/cluster/EntityAddress"
import * as EntityId from "effect/cluster/EntityId"
import * as EntityType from "effect/cluster/EntityType"
import * as Envelope from "effect/cluster/Envelope"
import * as Message from "effect/cluster/Message"
import * as MessageStorage from "effect/cluster/MessageStorage"
import * as Reply from "effect/cluster/Reply"
import * as Runner from "effect/cluster/Runner"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as RunnerStorage from "effect/cluster/RunnerStorage"
import * as ShardId from "effect/cluster/ShardId"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as Snowflake from "effect/cluster/Snowflake"
import * as SqlMessageStorage from "effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "effect/cluster/SqlRunnerStorage"
import * as Headers from "effect/http/Headers"
import * as Rpc from "effect/rpc/Rpc"
import * as SqlClient from "effect/sql/SqlClient"
import * as Sqlite from "../../src/internal/cluster/sqlite.ts"
import { within } from "../fixtures/deadlock.ts"

/** A fresh database file in its own temp folder, removed with the scope. */
const tempDatabase = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "effect-futures-sqlite-"))
    return { dir, filename: join(dir, "cluster.db") }
  }),
  ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const withClient = <A, E>(
  body: (sql: SqlClient.SqlClient, filename: string) => Effect.Effect<A, E, SqlClient.SqlClient>
) =>
  Effect.gen(function* () {
    const { filename } = yield* tempDatabase
    return yield* Effect.flatMap(SqlClient.SqlClient, (sql) => body(sql, filename)).pipe(
      Effect.provide(Sqlite.layer({ filename, busyTimeout: "5 seconds" }))
    )
  })

describe("SQLite client (node:sqlite)", () => {
  it.live("runs statements and gives rows as plain objects", () =>
    withClient((sql) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER)`
        yield* sql`INSERT INTO t ${sql.insert({ id: 1, name: "a", flag: true })}`
        yield* sql`INSERT INTO t ${sql.insert({ id: 2, name: "b", flag: false })}`
        const rows = yield* sql<{ id: number; name: string; flag: number }>`SELECT * FROM t ORDER BY id`
        expect(rows).toEqual([
          { id: 1, name: "a", flag: 1 },
          { id: 2, name: "b", flag: 0 }
        ])
        expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype)
        const values = yield* sql`SELECT id, name FROM t ORDER BY id`.values
        expect(values).toEqual([
          [1, "a"],
          [2, "b"]
        ])
      })
    )
  )

  it.live("reads 64-bit integers exactly as bigints under SafeIntegers", () =>
    withClient((sql) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE big (id INTEGER PRIMARY KEY)`
        const id = 7_300_000_000_000_000_123n
        yield* sql`INSERT INTO big (id) VALUES (${id})`
        const rows = yield* sql<{ id: bigint }>`SELECT id FROM big`.pipe(
          Effect.provideService(SqlClient.SafeIntegers, true)
        )
        expect(rows[0].id).toBe(id)
      })
    )
  )

  it.live("rolls a failed transaction back and commits a successful one", () =>
    withClient((sql) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`
        const failed = yield* Effect.exit(
          sql.withTransaction(Effect.andThen(sql`INSERT INTO t (id) VALUES (1)`, Effect.fail("boom")))
        )
        expect(Exit.isFailure(failed)).toBe(true)
        yield* sql.withTransaction(sql`INSERT INTO t (id) VALUES (2)`)
        expect(yield* sql`SELECT id FROM t`.values).toEqual([[2]])
      })
    )
  )

  it.live("waits for another connection's write lock instead of failing, without blocking its fibers", () =>
    withClient((sql, filename) =>
      Effect.gen(function* () {
        yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`
        // Another process's transaction holds the write lock.
        const other = new DatabaseSync(filename)
        other.exec("BEGIN IMMEDIATE")
        other.exec("INSERT INTO t (id) VALUES (1)")
        const insert = yield* Effect.forkChild(sql.withTransaction(sql`INSERT INTO t (id) VALUES (2)`))
        // The event loop stays free while the insert waits: a timer fires and commits the other side.
        yield* Effect.sleep(50)
        other.exec("COMMIT")
        other.close()
        yield* within(Effect.asVoid(Fiber.await(insert)), "2 seconds", "the insert waiting for the lock")
        expect(yield* sql`SELECT id FROM t ORDER BY id`.values).toEqual([[1], [2]])
      })
    )
  )

  it.live("fails with a SqlError naming the lock once busyTimeout has passed", () =>
    Effect.gen(function* () {
      const { filename } = yield* tempDatabase
      const other = new DatabaseSync(filename)
      other.exec("PRAGMA journal_mode = WAL")
      other.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
      other.exec("BEGIN IMMEDIATE")
      const error = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* Effect.flip(sql`INSERT INTO t (id) VALUES (1)`)
      }).pipe(Effect.provide(Sqlite.layer({ filename, busyTimeout: 100 })))
      other.exec("ROLLBACK")
      other.close()
      expect(error._tag).toBe("SqlError")
      expect(error.reason._tag).toBe("LockTimeoutError")
    })
  )
})

const runnerAddress = RunnerAddress.make("localhost", 1234)

const storageLayer = (filename: string) =>
  Layer.mergeAll(SqlRunnerStorage.layer, SqlMessageStorage.layer).pipe(
    Layer.provideMerge(Snowflake.layerGenerator),
    Layer.provide(NodeCrypto.layerDigest),
    Layer.provide(ShardingConfig.layer({ shardLockExpiration: "5 seconds" })),
    Layer.provideMerge(Sqlite.layer({ filename }))
  )

const GetUser = Rpc.make("GetUser", { payload: { id: Schema.Number } })

const makeRequest = Effect.gen(function* () {
  const snowflake = yield* Snowflake.Generator
  return new Message.OutgoingRequest({
    envelope: Envelope.makeRequest<any>({
      requestId: snowflake.nextUnsafe(),
      address: EntityAddress.make({
        shardId: ShardId.make("default", 1),
        entityType: EntityType.make("test"),
        entityId: EntityId.make("1")
      }),
      tag: GetUser._tag,
      payload: { id: 123 },
      traceId: "noop",
      spanId: "noop",
      sampled: false,
      headers: Headers.empty
    }),
    annotations: GetUser.annotations,
    context: Context.empty() as any,
    rpc: GetUser,
    lastReceivedReply: Option.none(),
    respond: () => Effect.void
  })
})

describe("cluster storage on the SQLite client", () => {
  it.live("SqlRunnerStorage registers runners and acquires, refreshes and releases shard locks", () =>
    Effect.gen(function* () {
      const { filename } = yield* tempDatabase
      yield* Effect.gen(function* () {
        const storage = yield* RunnerStorage.RunnerStorage
        const runner = Runner.make({ address: runnerAddress, groups: ["default"], weight: 1 })
        const machineId = yield* storage.register(runner, true)
        expect(machineId).toBe(1)
        expect(yield* storage.getRunners).toEqual([[runner, true]])
        const shards = [ShardId.make("default", 1), ShardId.make("default", 2)]
        expect((yield* storage.acquire(runnerAddress, shards)).map((s) => s.id)).toEqual([1, 2])
        // Another runner cannot take shards whose lock has not expired.
        const other = RunnerAddress.make("localhost", 1235)
        expect(yield* storage.acquire(other, shards)).toEqual([])
        expect((yield* storage.refresh(runnerAddress, shards)).map((s) => s.id)).toEqual([1, 2])
        yield* storage.release(runnerAddress, shards[0])
        expect((yield* storage.acquire(other, shards)).map((s) => s.id)).toEqual([1])
        yield* storage.unregister(runnerAddress)
        expect(yield* storage.getRunners).toEqual([])
      }).pipe(Effect.provide(storageLayer(filename)))
    })
  )

  it.live("SqlMessageStorage saves a request, hands it out once and stores its reply", () =>
    Effect.gen(function* () {
      const { filename } = yield* tempDatabase
      yield* Effect.gen(function* () {
        const storage = yield* MessageStorage.MessageStorage
        const snowflake = yield* Snowflake.Generator
        const request = yield* makeRequest
        expect((yield* storage.saveRequest(request))._tag).toBe("Success")
        const shard = request.envelope.address.shardId
        expect(yield* storage.unprocessedMessages([shard])).toHaveLength(1)
        expect(yield* storage.unprocessedMessages([shard])).toHaveLength(0)
        expect(yield* storage.repliesFor([request])).toHaveLength(0)
        yield* storage.saveReply(
          new Reply.ReplyWithContext({
            reply: new Reply.WithExit({
              id: snowflake.nextUnsafe(),
              requestId: request.envelope.requestId,
              exit: Exit.void as any
            }),
            context: request.context,
            rpc: request.rpc
          })
        )
        const replies = yield* storage.repliesFor([request])
        expect(replies.map((r) => r.requestId)).toEqual([request.envelope.requestId])
      }).pipe(Effect.provide(storageLayer(filename)))
    })
  )
})
