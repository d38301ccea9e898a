/**
 * The `primes` example across processes: two runner processes on localhost
 * share a SQLite file (the cluster's storage), and this program, the client,
 * checks which of six large numbers are prime with `Executor.map` on a
 * `ClusterExecutor`. Swapping `ProcessPoolExecutor.layer()` for
 * `ClusterExecutor.layer()` is the only change the program needs.
 *
 * The same file is the runner program: `cluster.ts --runner FILE` starts a
 * runner on FILE (an ephemeral port; clients find runners through the
 * storage). At the end the client stops its runners with SIGTERM, which
 * lets them finish their calls and leave.
 *
 * Run it with `npm run example -- cluster`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import { Executor } from "../src/index.ts"
import { checkPrime } from "./tasks/cluster.ts"

const PRIMES = [112272535095293, 112582705942171, 112272535095293, 115280095190773, 115797848077099, 1099726899285419]

/** A runner: runs `checkPrime` (and nothing else) until SIGTERM. */
const runner = (filename: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* Layer.build(
        ClusterExecutor.layerRunner({ tasks: [checkPrime] }).pipe(
          Layer.provide(ClusterExecutor.layerSqlite({ filename }))
        )
      )
      yield* Console.log("ready")
      return yield* Effect.never
    })
  )

/** Starts this file as a runner process and waits until it is up. */
const startRunner = (filename: string) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess, Error>((resume) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--runner", filename], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr!.on("data", (chunk) => {
        stderr += String(chunk)
      })
      child.stdout!.on("data", (chunk) => {
        if (String(chunk).includes("ready")) resume(Effect.succeed(child))
      })
      child.once("exit", (code) => resume(Effect.fail(new Error(`a runner exited (${code}): ${stderr}`))))
    }),
    // SIGTERM: the runner finishes what it runs, hands its shards off and exits.
    (child) =>
      Effect.callback<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
  )

const client = Effect.gen(function* () {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-futures-cluster-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const filename = join(dir, "cluster.db")
  const storage = ClusterExecutor.layerSqlite({ filename })
  // The client's layer creates the tables, then the runners start.
  const executor = yield* Layer.build(
    ClusterExecutor.layer({ runnerTimeout: "30 seconds" }).pipe(Layer.provide(storage))
  )
  const runners = yield* Effect.all([startRunner(filename), startRunner(filename)], { concurrency: "unbounded" })
  yield* Console.log(`started ${runners.length} runners on ${filename}`)
  const results = yield* Executor.map(checkPrime, PRIMES).pipe(Stream.runCollect, Effect.provideContext(executor))
  for (const { n, prime, runner } of results) {
    const by = runners.findIndex((r) => r.pid === runner)
    yield* Console.log(`${n} is prime: ${prime ? "True" : "False"} (runner ${by + 1})`)
  }
}).pipe(Effect.scoped, Effect.andThen(Console.log("runners stopped, storage removed")))

if (process.argv[2] === "--runner") {
  NodeRuntime.runMain(runner(process.argv[3]!))
} else {
  Effect.runPromise(client).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
