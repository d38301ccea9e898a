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
import { Effect, Exit, Layer } from "effect"
import * as ClusterExecutor from "../../src/ClusterExecutor.ts"
import { Executor, Future, WorkerDied } from "../../src/index.ts"
import { expectFailure, within } from "../fixtures/deadlock.ts"
import {
  clientLayer,
  clusterFolder,
  eventually,
  lines,
  type RunnerProcess,
  settled,
  spawnRunner
} from "./fixtures/harness.ts"
import { record } from "./fixtures/tasks.ts"

// Short, for a quick failover; long enough that a runner slowed by a loaded machine keeps its
// shards (a runner that misses its refreshes for this long loses them, and its calls run again).
const shardLockExpiration = "5 seconds"

/** The `<pid> <value>` lines `record` wrote: which runner started which call. */
const starts = (file: string) =>
  lines(file).map((line) => {
    const [pid, value, at] = line.split(" ").map(Number)
    return { pid, value, at }
  })

/** The engine's entity-id hash (effect/cluster's internal `hashString`, not exported): which shard an entity id is on. */
const hashString = (str: string): number => {
  let h = 5381
  for (let i = str.length; i > 0; ) h = (h * 33) ^ str.charCodeAt(--i)
  return (h & 0xbfffffff) | ((h >>> 1) & 0x40000000)
}

/** The port a runner listens on, from its "Listening on: host:port" log line. */
const portOf = (runner: RunnerProcess): string => /Listening on: [^\s]+:(\d+)/.exec(runner.output())?.[1] ?? "?"

/** Two runners and a client on one fresh cluster file, for one test. */
const withCluster = <A, E>(
  body: (env: {
    readonly dir: string
    readonly runners: ReadonlyArray<RunnerProcess>
  }) => Effect.Effect<A, E, Executor.Executor>
) =>
  Effect.gen(function* () {
    const { dir, filename } = yield* clusterFolder
    const runners = yield* Effect.all(
      [
        spawnRunner({ filename, shardLockExpiration, maxWorkers: 6 }),
        spawnRunner({ filename, shardLockExpiration, maxWorkers: 6 })
      ],
      { concurrency: "unbounded" }
    )
    yield* settled(filename, 2)
    return yield* body({ dir, runners }).pipe(
      Effect.provide(Layer.fresh(clientLayer(filename, { shardLockExpiration })))
    )
  })

/**
 * Submits `calls` calls of `record`, each lasting `ms`, and waits until every one has started on
 * some runner; gives the futures and the starts, the first one first.
 */
const startAll = (file: string, calls: number, ms: number) =>
  Effect.gen(function* () {
    const futures = yield* Effect.forEach(
      Array.from({ length: calls }, (_, i) => i),
      (i) => Executor.submit(record, file, i, ms)
    )
    const started = yield* eventually(
      () => (new Set(starts(file).map((s) => s.value)).size === calls ? starts(file) : undefined),
      "30 seconds",
      "every call starting"
    )
    return { futures, started }
  })

describe("ClusterExecutor faults", () => {
  it.live(
    "runs the calls of a runner killed with SIGKILL again on the other runner, and every future succeeds",
    () =>
      withCluster(({ dir, runners }) =>
        Effect.gen(function* () {
          const file = join(dir, "starts.txt")
          const calls = 6
          // Every call has started somewhere; kill the runner that started the first one.
          const { futures, started: first } = yield* startAll(file, calls, 6000)
          const victim = runners.find((r) => r.pid === first[0].pid)!
          const survivor = runners.find((r) => r !== victim)!
          const killedAt = Date.now()
          victim.child.kill("SIGKILL")
          // The victim's calls still running when it died (a call it had finished keeps its result).
          const onVictim: Array<number> = []
          for (const { pid, value } of first) {
            if (pid === victim.pid && !(yield* Future.done(futures[value]))) onVictim.push(value)
          }
          expect(onVictim.length, `no call of ${victim.pid} was running: ${JSON.stringify(first)}`).toBeGreaterThan(0)
          const results = yield* within(
            Effect.forEach(futures, (f) => Future.result(f)),
            "45 seconds",
            "the killed runner's calls completing elsewhere"
          )
          const failover = Date.now() - killedAt
          expect(results.map((r) => r.value)).toEqual(Array.from({ length: calls }, (_, i) => i))
          for (const value of onVictim) {
            // At-least-once: the call ran again, on the survivor, which gave the result.
            expect(results[value].pid, `killed ${victim.pid} at ${killedAt}: ${JSON.stringify(starts(file))}`).toBe(
              survivor.pid
            )
            expect(
              starts(file)
                .filter((s) => s.value === value)
                .map((s) => s.pid)
            ).toContain(survivor.pid)
          }
          const reruns = starts(file).filter((s) => s.pid === survivor.pid && onVictim.includes(s.value))
          const firstRerun = Math.min(...reruns.map((s) => s.at)) - killedAt
          console.log(
            `SIGKILL failover: ${onVictim.length} of ${calls} calls re-ran on the survivor, the first ${firstRerun} ms after the kill; all done after ${failover} ms (lock expiry ${shardLockExpiration}, calls of 6 s)`
          )
        })
      ),
    90_000
  )

  it.live(
    "fails the calls of a killed runner with WorkerDied instead of running them again, for a Task that must not run twice",
    () =>
      withCluster(({ dir, runners }) =>
        Effect.gen(function* () {
          const file = join(dir, "starts.txt")
          const calls = 6
          const once = ClusterExecutor.onRunnerDeath(record, "fail")
          const futures = yield* Effect.forEach(
            Array.from({ length: calls }, (_, i) => i),
            (i) => Executor.submit(once, file, i, 6000)
          )
          const first = yield* eventually(
            () => (new Set(starts(file).map((s) => s.value)).size === calls ? starts(file) : undefined),
            "30 seconds",
            "every call starting"
          )
          const victim = runners.find((r) => r.pid === first[0].pid)!
          victim.child.kill("SIGKILL")
          const exits = yield* within(
            Effect.forEach(futures, (f) => Future.await(f)),
            "45 seconds",
            "every call ending after the kill"
          )
          for (const { pid, value } of first) {
            if (pid === victim.pid) {
              const died = expectFailure(exits[value], WorkerDied, "WorkerDied")
              expect(died.kind).toBe("Cluster")
              expect(died.workerId).toBe(victim.pid)
            } else {
              expect(Exit.isSuccess(exits[value])).toBe(true)
            }
          }
          // Nothing started twice.
          expect(starts(file), JSON.stringify(starts(file))).toHaveLength(calls)
        })
      ),
    90_000
  )

  it.live(
    "lets a runner told to stop with SIGTERM finish its calls: every future succeeds and nothing runs twice",
    () =>
      withCluster(({ dir, runners }) =>
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
        yield* settled(filename, 1)
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
          yield* settled(filename, 2)
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
        }).pipe(Effect.provide(Layer.fresh(clientLayer(filename, { shardLockExpiration }))))
      }),
    90_000
  )
})
