/**
 * W7: the ClusterExecutor on localhost. Two runner processes (two worker
 * threads each) share a SQLite file; this process is the client. Tiny calls
 * one by one with 64 in flight, and `map` with chunks of 100 items; the process
 * pool of the same size (2 workers) alongside, as the single-machine reference.
 * Runners are started and their shards settled before timing.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import { Executor, Future, ProcessPoolExecutor } from "../src/index.ts"
import { inc } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const calls = 2_000
const items = 20_000
const chunksize = 100
/** A second `map` row: ten times the chunk, so that the per-message cost shows apart from the per-item. */
const bigChunks = 1000
const inFlight = 64
const runnerProgram = fileURLToPath(new URL("./fixtures/clusterRunner.ts", import.meta.url))

/** `n` calls submitted one by one, at most `inFlight` out, then all awaited. */
const submitAll = (runtime: ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>, n: number) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const futures = yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        (x) => Executor.submit(inc, x)
      )
      return yield* Effect.forEach(futures, (f) => Future.result(f))
    })
  )

/** `map` over `n` items, in chunks of `size`, or with no options (`undefined`). */
const mapAll = (
  runtime: ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>,
  n: number,
  size: number | undefined = chunksize
) => {
  const xs = Array.from({ length: n }, (_, i) => i)
  return runtime.runPromise(
    (size === undefined ? Executor.map(inc, xs) : Executor.map(inc, xs, { chunksize: size })).pipe(Stream.runDrain)
  )
}

const startRunner = (filename: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runnerProgram, filename], { stdio: ["ignore", "pipe", "inherit"] })
    child.stdout!.on("data", (chunk) => {
      if (String(chunk).includes("ready")) resolve(child)
    })
    child.once("exit", (code, signal) => reject(new Error(`a W7 runner exited at start (${code ?? signal})`)))
  })

/** Until the 300 shards are locked by both runners (start-up rebalancing is over). */
const settled = async (filename: string): Promise<void> => {
  for (let i = 0; i < 600; i++) {
    try {
      const db = new DatabaseSync(filename, { readOnly: true })
      const rows = db.prepare("SELECT address, COUNT(*) AS n FROM cluster_locks GROUP BY address").all() as Array<{
        n: number
      }>
      db.close()
      if (rows.length === 2 && rows.reduce((sum, row) => sum + row.n, 0) === 300) return
    } catch {
      // The tables do not exist yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error("W7: the runners' shards did not settle within 60 s")
}

export const W7: Workload = {
  id: "W7",
  title: "ClusterExecutor: 2 runner processes on localhost, SQLite storage",
  description:
    `${calls.toLocaleString("en")} calls of \`x => x + 1\` submitted one by one with at most ${inFlight} in flight ` +
    `(\`maxInFlight: ${inFlight}\`), then all awaited, over two runner processes of 2 worker threads each sharing a ` +
    `SQLite file; and \`Executor.map\` of ${items.toLocaleString("en")} items in chunks of ${chunksize}, of ${bigChunks}, and with no options (figure: items/s). ` +
    "Runners are started, their shards settled and the client warmed before timing. Reference: ProcessPoolExecutor " +
    "with 2 workers on the same calls.",
  target: `≥ 2,000 calls/s for the tiny calls; ≥ 200,000 items/s for map with chunksize ${chunksize}.`,
  run: async (bench: Bench): Promise<Array<Row>> => {
    const dir = mkdtempSync(join(tmpdir(), "w7-"))
    const filename = join(dir, "cluster.db")
    const runners: Array<ChildProcess> = []
    const storage = ClusterExecutor.layerSqlite({ filename })
    const cluster = ManagedRuntime.make(
      ClusterExecutor.layer({ maxInFlight: inFlight, runnerTimeout: "60 seconds" }).pipe(Layer.provide(storage))
    )
    const processPool = ManagedRuntime.make(ProcessPoolExecutor.layer({ maxWorkers: 2 }))
    try {
      // The client creates the tables first, so the runners do not race to.
      await cluster.runPromise(Effect.void)
      runners.push(...(await Promise.all([startRunner(filename), startRunner(filename)])))
      await settled(filename)
      await Promise.all([submitAll(cluster, 1000), mapAll(cluster, items), submitAll(processPool, 1000)])
      bench.log("W7: runners settled, client and process pool warmed")
      const submitSystems: ReadonlyArray<System> = [
        {
          name: "ProcessPoolExecutor (2 workers)",
          note: "`Executor.submit(inc, x)` for every x, then `Future.result` of each.",
          run: () => submitAll(processPool, calls)
        },
        {
          name: "ClusterExecutor submit + result",
          ours: true,
          vs: ["ProcessPoolExecutor (2 workers)"],
          note: `\`ClusterExecutor.layer({ maxInFlight: ${inFlight} })\`: \`Executor.submit(inc, x)\` for every x, then \`Future.result\` of each.`,
          run: () => submitAll(cluster, calls)
        }
      ]
      const submitRows = await bench.compare({ workload: "W7", tasks: calls, systems: submitSystems })
      const mapSystems: ReadonlyArray<System> = [
        {
          name: `ClusterExecutor map (chunksize ${chunksize})`,
          ours: true,
          note: `\`Executor.map(inc, xs, { chunksize: ${chunksize} })\`: one message per ${chunksize} items, run on the runner's pool with its own chunked map.`,
          run: () => mapAll(cluster, items)
        },
        {
          name: `ClusterExecutor map (chunksize ${bigChunks})`,
          ours: true,
          note: `The same with \`chunksize: ${bigChunks}\`: what a message's fixed cost leaves of the per-item cost.`,
          run: () => mapAll(cluster, items, bigChunks)
        },
        {
          name: "ClusterExecutor map (no options)",
          ours: true,
          note: "`Executor.map(inc, xs)`: the chunks sized as they go, paced for the network.",
          run: () => mapAll(cluster, items, undefined)
        }
      ]
      // One "task" of this row is one item.
      const mapRows = await bench.compare({ workload: "W7", tasks: items, systems: mapSystems })
      return [...submitRows, ...mapRows]
    } finally {
      await cluster.dispose()
      await processPool.dispose()
      for (const runner of runners) runner.kill("SIGTERM")
      await Promise.all(
        runners.map((r) => new Promise((resolve) => (r.exitCode === null ? r.once("exit", resolve) : resolve(null))))
      )
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
