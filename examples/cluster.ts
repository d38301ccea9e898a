/**
 * The `primes` example across processes: two runner processes on localhost
 * share a SQLite file (the cluster's storage), and this program, the client,
 * checks which of six large numbers are prime with `Executor.map` on a
 * `ClusterExecutor`. Swapping `ProcessPoolExecutor.layer()` for
 * `ClusterExecutor.layer()` is the only change the program needs.
 *
 * The same file is the runner program: `cluster.ts --runner` starts a runner
 * on the storage named by the environment variable `CLUSTER_STORAGE` (out of
 * the process list, as a database password should be), on an ephemeral port:
 * clients find runners through the storage. At the end the client stops its runners with SIGTERM, which
 * lets them finish their calls and leave.
 *
 * Run it with `npm run example -- cluster`; with a Postgres database's URL,
 * `npm run example -- cluster postgres://user:password@host:5432/db`, the
 * client and the runners share that database instead (through
 * `@effect/sql-pg`), as runners on several machines would.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Console, Effect, Layer, Redacted, Stream } from "effect"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import { Executor } from "../src/index.ts"
import { checkPrime } from "./tasks/cluster.ts"

const PRIMES = [112272535095293, 112582705942171, 112272535095293, 115280095190773, 115797848077099, 1099726899285419]

/** The cluster's storage: a Postgres database by URL, or else a SQLite file. */
const storageOf = (where: string) =>
  /^postgres(ql)?:\/\//.test(where)
    ? PgClient.layer({ url: Redacted.make(where) })
    : ClusterExecutor.layerSqlite({ filename: where })

/** A runner: runs `checkPrime` (and nothing else) until SIGTERM. */
const runner = (where: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* Layer.build(ClusterExecutor.layerRunner({ tasks: [checkPrime] }).pipe(Layer.provide(storageOf(where))))
      yield* Console.log("ready")
      return yield* Effect.never
    })
  )

/** Starts this file as a runner process and waits until it is up. */
const startRunner = (where: string) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess, Error>((resume) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--runner"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, CLUSTER_STORAGE: where }
      })
      // What the runner printed, both streams: its logger writes a failure to stdout.
      let output = ""
      child.stderr!.on("data", (chunk) => {
        output += String(chunk)
      })
      child.stdout!.on("data", (chunk) => {
        output += String(chunk)
        if (String(chunk).includes("ready")) resume(Effect.succeed(child))
      })
      child.once("exit", (code) => resume(Effect.fail(new Error(`a runner exited (${code}): ${output}`))))
    }),
    // SIGTERM: the runner finishes what it runs, hands its shards off and exits.
    (child) =>
      Effect.callback<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
  )

const client = (postgres: string | undefined) =>
  Effect.gen(function* () {
    const where =
      postgres ??
      join(
        yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-futures-cluster-"))),
          (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
        ),
        "cluster.db"
      )
    // The client's layer creates the tables, then the runners start.
    const executor = yield* Layer.build(
      ClusterExecutor.layer({ runnerTimeout: "30 seconds" }).pipe(Layer.provide(storageOf(where)))
    )
    const runners = yield* Effect.all([startRunner(where), startRunner(where)], { concurrency: "unbounded" })
    yield* Console.log(`started ${runners.length} runners on ${postgres === undefined ? where : "Postgres"}`)
    const results = yield* Executor.map(checkPrime, PRIMES).pipe(Stream.runCollect, Effect.provideContext(executor))
    for (const { n, prime, runner } of results) {
      const by = runners.findIndex((r) => r.pid === runner)
      yield* Console.log(`${n} is prime: ${prime ? "True" : "False"} (runner ${by + 1})`)
    }
  }).pipe(
    Effect.scoped,
    Effect.andThen(Console.log(postgres === undefined ? "runners stopped, storage removed" : "runners stopped"))
  )

if (process.argv[2] === "--runner") {
  NodeRuntime.runMain(runner(process.env.CLUSTER_STORAGE!))
} else {
  Effect.runPromise(client(process.argv[2])).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
