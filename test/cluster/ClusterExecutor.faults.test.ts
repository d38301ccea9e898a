/**
 * ClusterExecutor's faults with real runner processes: a runner SIGKILLed
 * mid-call (its calls run again on the other runner, at-least-once) and a
 * runner told to stop with SIGTERM (it finishes its calls; nothing runs
 * twice). Short lock expiry; every wait has a deadline; every runner is
 * killed at the end and checked gone.
 */
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Executor, Future } from "../../src/index.ts"
import { within } from "../fixtures/deadlock.ts"
import { killedRunnerCallsFail, killedRunnerCallsRerun, startAll, starts, withCluster } from "./fixtures/faults.ts"
import { clientLayer, clusterFolder, eventually, type RunnerProcess, settled, spawnRunner } from "./fixtures/harness.ts"
import { record } from "./fixtures/tasks.ts"

// Short, for a quick failover; long enough that a runner slowed by a loaded machine keeps its
// shards (a runner that misses its refreshes for this long loses them, and its calls run again).
const shardLockExpiration = "5 seconds"

/** A fresh SQLite cluster file. */
const sqlite = Effect.map(clusterFolder, ({ dir, filename }) => ({ dir, storage: { filename } }))

/** The engine's entity-id hash (effect/cluster's internal `hashString`, not exported): which shard an entity id is on. */
const hashString = (str: string): number => {
  let h = 5381
  for (let i = str.length; i > 0; ) h = (h * 33) ^ str.charCodeAt(--i)
  return (h & 0xbfffffff) | ((h >>> 1) & 0x40000000)
}

/** The port a runner listens on, from its "Listening on: host:port" log line. */
const portOf = (runner: RunnerProcess): string => /Listening on: [^\s]+:(\d+)/.exec(runner.output())?.[1] ?? "?"

describe("ClusterExecutor faults", () => {
  it.live(
    "runs the calls of a runner killed with SIGKILL again on the other runner, and every future succeeds",
    () => withCluster(sqlite, shardLockExpiration, killedRunnerCallsRerun),
    90_000
  )

  it.live(
    "fails the calls of a killed runner with WorkerDied instead of running them again, for a Task that must not run twice",
    () => withCluster(sqlite, shardLockExpiration, killedRunnerCallsFail),
    90_000
  )

  it.live(
    "lets a runner told to stop with SIGTERM finish its calls: every future succeeds and nothing runs twice",
    () =>
      withCluster(sqlite, shardLockExpiration, ({ dir, runners }) =>
        Effect.gen(function* () {
          const file = join(dir, "starts.txt")
          const calls = 6
          const { futures, started: first } = yield* startAll(file, calls, 2000)
          const stopping = runners.find((r) => r.pid === first[0].pid)!
          const exited = new Promise<number | null>((resolve) => stopping.child.once("exit", (code) => resolve(code)))
          const stoppedAt = Date.now()
          stopping.child.kill("SIGTERM")
          const results = yield* within(
            Effect.forEach(futures, (f) => Future.result(f)),
            "40 seconds",
            "the stopping runner's calls completing"
          )
          expect(results.map((r) => r.value)).toEqual(Array.from({ length: calls }, (_, i) => i))
          // Each call started once, and where it started it finished.
          const started = starts(file)
          expect(started, `stopped ${stopping.pid} at ${stoppedAt}: ${JSON.stringify(started)}`).toHaveLength(calls)
          for (const { pid, value } of started) expect(results[value].pid).toBe(pid)
          expect(started.some((s) => s.pid === stopping.pid)).toBe(true)
          yield* within(
            Effect.promise(() => exited),
            "30 seconds",
            "the stopped runner exiting"
          )
        })
      ),
    90_000
  )

  it.live(
    "does not interrupt a running call when a runner joins and the call's shard moves to it",
    () =>
      Effect.gen(function* () {
        const { dir, filename } = yield* clusterFolder
        const first = yield* spawnRunner({ filename, shardLockExpiration, maxWorkers: 6 })
        yield* settled({ filename }, 1)
        const file = join(dir, "starts.txt")
        const calls = 6
        yield* Effect.gen(function* () {
          const futures = yield* Effect.forEach(
            Array.from({ length: calls }, (_, i) => i),
            (i) => Executor.submit(record, file, i, 6000)
          )
          yield* eventually(
            () => (starts(file).length === calls ? true : undefined),
            "30 seconds",
            "every call starting on the first runner"
          )
          // A second runner joins: half the shards move to it, each once its calls have ended.
          const joiner = yield* spawnRunner({ filename, shardLockExpiration, maxWorkers: 6 })
          const results = yield* within(
            Effect.forEach(futures, (f) => Future.result(f)),
            "40 seconds",
            "the calls completing across the rebalance"
          )
          // Every call ran once, on the first runner, and was not interrupted.
          expect(results.map((r) => r.pid)).toEqual(Array.from({ length: calls }, () => first.pid))
          expect(starts(file)).toHaveLength(calls)
          yield* settled({ filename }, 2)
          // At least one call's shard did move (each does with probability 1/2): the rebalance happened under it.
          const db = new DatabaseSync(filename, { readOnly: true })
          const moved = Array.from(
            { length: calls },
            (_, id) => `default:${Math.abs(hashString(String(id)) % 300) + 1}`
          )
            .map(
              (shard) =>
                db.prepare("SELECT address FROM cluster_locks WHERE shard_id = ?").get(shard) as { address: string }
            )
            .filter((row) => row.address.endsWith(`:${portOf(joiner)}`))
          db.close()
          expect(moved.length).toBeGreaterThan(0)
        }).pipe(Effect.provide(Layer.fresh(clientLayer({ filename }, { shardLockExpiration }))))
      }),
    90_000
  )
})
