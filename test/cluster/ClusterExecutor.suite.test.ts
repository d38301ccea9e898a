/**
 * The shared executor suite (CPython's generic executor tests) on the
 * ClusterExecutor: two runner processes on one SQLite file, started once for
 * the file; each test gets a fresh client whose `maxInFlight` is the suite's
 * `maxWorkers`.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as tasks from "../fixtures/tasks.ts"
import { executorSuite } from "../suites/executor.ts"
import { clientLayer, clusterFolder, settled, spawnRunner } from "./fixtures/harness.ts"

let filename = ""
const scope = Effect.runSync(Scope.make())

beforeAll(async () => {
  filename = await Effect.runPromise(
    Effect.gen(function* () {
      const folder = yield* clusterFolder
      yield* Effect.all([spawnRunner({ filename: folder.filename }), spawnRunner({ filename: folder.filename })], {
        concurrency: "unbounded"
      })
      yield* settled({ filename: folder.filename }, 2)
      return folder.filename
    }).pipe(Scope.provide(scope))
  )
}, 60_000)

afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)), 30_000)

executorSuite(
  "ClusterExecutor",
  (options) => clientLayer({ filename }, { maxInFlight: options.maxWorkers }),
  tasks.suiteTasks,
  { timeScale: 3 }
)
