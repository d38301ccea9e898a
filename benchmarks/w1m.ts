/**
 * W1m: W1's 100k tiny tasks through `Executor.map` with `chunksize` 1 and 256,
 * on our interpreter and process pools, against Python's
 * `ProcessPoolExecutor.map` with the same chunksizes.
 */
import { Effect, ManagedRuntime, Stream } from "effect"
import { Executor, InterpreterPoolExecutor, ProcessPoolExecutor } from "../src/index.ts"
import { pythonSystem, pythonVersion, timed, Units } from "./common.ts"
import { inc } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const tasks = 100_000
const workers = 2
const chunksizes = [1, 256] as const
const xs = Array.from({ length: tasks }, (_, i) => i)

type Runtime = ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>

/** Every result of `Executor.map(inc, items, { chunksize })`, in order. */
const mapAll = (runtime: Runtime, items: ReadonlyArray<number>, chunksize: number) =>
  runtime.runPromise(
    Executor.map(inc, items, { chunksize }).pipe(
      Stream.runCollect,
      Effect.tap((out) => (out.length === items.length ? Effect.void : Effect.die(new Error("results missing"))))
    )
  )

export const W1m: Workload = {
  id: "W1m",
  title: "100k tiny tasks through map, chunksize 1 and 256",
  description:
    "W1's 100,000 calls of `x => x + 1` on 2 workers, through `Executor.map(inc, xs, { chunksize })` and " +
    "`Stream.runCollect`, against Python's `list(ProcessPoolExecutor.map(inc, range(n), chunksize=...))` " +
    "with the same chunksize. Pools are started and warmed before timing. Start-up: creating the pool " +
    "until its first 2 calls, submitted together, have come back. Each of ours is compared with Python's " +
    "map of the same chunksize.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const runtimes: ReadonlyArray<readonly [string, Runtime]> = [
      ["InterpreterPoolExecutor", ManagedRuntime.make(InterpreterPoolExecutor.layer({ maxWorkers: workers }))],
      ["ProcessPoolExecutor", ManagedRuntime.make(ProcessPoolExecutor.layer({ maxWorkers: workers }))]
    ]
    try {
      const startup = new Map<string, number>()
      for (const [name, runtime] of runtimes) {
        startup.set(name, await timed(() => mapAll(runtime, xs.slice(0, workers), 1)))
        for (const chunksize of chunksizes) await mapAll(runtime, xs.slice(0, 1000), chunksize)
      }
      bench.log(
        `W1m: pools started (${[...startup].map(([n, ms]) => `${n} ${ms.toFixed(0)} ms`).join(", ")}) and warmed`
      )
      const python = pythonVersion()
      const pythonName = (chunksize: number) =>
        `Python ${"version" in python ? `${python.version} ` : ""}ProcessPoolExecutor.map, chunksize ${chunksize}`
      const pythonNote = (chunksize: number) =>
        `\`list(executor.map(inc, range(100_000), chunksize=${chunksize}))\` on \`ProcessPoolExecutor(max_workers=2)\` ` +
        "(default start method); a fresh `python3` per round, timed inside after a 1,000-item warm-up."
      if ("missing" in python) bench.log(`W1m: skipping the Python peers: ${python.missing}`)
      const systems: Array<System> = []
      if ("version" in python) {
        for (const chunksize of chunksizes) {
          systems.push(
            pythonSystem({
              name: pythonName(chunksize),
              note: pythonNote(chunksize),
              args: ["map", String(tasks), String(workers), String(chunksize)],
              reports: "ms"
            })
          )
        }
      }
      for (const [name, runtime] of runtimes) {
        for (const chunksize of chunksizes) {
          systems.push({
            name: `${name} map, chunksize ${chunksize}`,
            note: `\`${name}.layer({ maxWorkers: 2 })\`: \`Executor.map(inc, xs, { chunksize: ${chunksize} }).pipe(Stream.runCollect)\`.`,
            ours: true,
            vs: "version" in python ? [pythonName(chunksize)] : [],
            run: () => mapAll(runtime, xs, chunksize),
            startupMs: () => startup.get(name)
          })
        }
      }
      const rows = await bench.compare({ workload: "W1m", tasks, systems })
      if ("version" in python) return rows
      return [
        ...chunksizes.map((c) => bench.skipped("W1m", pythonName(c), Units.tasksPerSecond, python.missing)),
        ...rows
      ]
    } finally {
      await Promise.all(runtimes.map(([, runtime]) => runtime.dispose()))
    }
  }
}
