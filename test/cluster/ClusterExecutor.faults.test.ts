/**
 * ClusterExecutor's faults with real runner processes: a runner SIGKILLed
 * mid-call (its calls run again on the other runner, at-least-once) and a
 * runner told to stop with SIGTERM (it finishes its calls; nothing runs
 * twice). Short lock expiry; every wait has a deadline; every runner is
 * killed at the end and checked gone.
 */
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Executor, Future } from "../../src/index.ts"
import { within } from "../fixtures/deadlock.ts"
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

describe("ClusterExecutor faults", () => {
  it.live(
    "runs the calls of a runner killed with SIGKILL again on the other runner, and every future succeeds",
    () =>
      withCluster(({ dir, runners }) =>
        Effect.gen(function* () {
          const file = join(dir, "starts.txt")
          const calls = 6
          const futures = yield* Effect.forEach(
            Array.from({ length: calls }, (_, i) => i),
            (i) => Executor.submit(record, file, i, 6000)
          )
          // Every call has started somewhere; kill the runner that started the first one.
          const first = yield* eventually(
            () => (new Set(starts(file).map((s) => s.value)).size === calls ? starts(file) : undefined),
            "30 seconds",
            "every call starting"
          )
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
    "lets a runner told to stop with SIGTERM finish its calls: every future succeeds and nothing runs twice",
    () =>
      withCluster(({ dir, runners }) =>
        Effect.gen(function* () {
          const file = join(dir, "starts.txt")
          const calls = 6
          const futures = yield* Effect.forEach(
            Array.from({ length: calls }, (_, i) => i),
            (i) => Executor.submit(record, file, i, 2000)
          )
          const first = yield* eventually(
            () => (new Set(starts(file).map((s) => s.value)).size === calls ? starts(file) : undefined),
            "30 seconds",
            "every call starting"
          )
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
})
