/**
 * W1: 100k tiny tasks submitted one by one to a 2-worker pool, then all
 * awaited. Our interpreter pool against Piscina, Tinypool and workerpool (all
 * on worker_threads), and our process pool against Python's
 * ProcessPoolExecutor. Pools are started and warmed before timing; start-up is
 * measured apart.
 */
import { Effect, type ManagedRuntime } from "effect"
import { Piscina } from "piscina"
import { Tinypool } from "tinypool"
import workerpool from "workerpool"
import { Executor, Future } from "../src/index.ts"
import { logStartup, ourPools, pythonPeer, timed, Units } from "./common.ts"
import { inc } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const tasks = 100_000
const workers = 2
const xs = Array.from({ length: tasks }, (_, i) => i)

/** Submit every task, then wait for every result, on the executor of `runtime`. */
const submitAll = (runtime: ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>, n: number) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const futures = yield* Effect.forEach(xs.slice(0, n), (x) => Executor.submit(inc, x))
      return yield* Effect.forEach(futures, (f) => Future.result(f))
    })
  )

/** What the Python peer runs. */
const pythonNote =
  "`ProcessPoolExecutor(max_workers=2)` (default start method): `submit(inc, i)` for every i, then `result()` of each; " +
  "a fresh `python3` per round, timed inside after a 1,000-call warm-up."

export const W1: Workload = {
  id: "W1",
  title: "100k tiny tasks to a 2-worker pool",
  description:
    "100,000 calls of `x => x + 1` submitted one by one to a pool of 2 workers, then all awaited " +
    "(`Executor.submit` + `Future.result`; the peers' `run`/`exec`/`submit` + `Promise.all`/`result()`). " +
    "Pools are started and warmed before timing. Start-up: creating the pool until its first 2 calls, " +
    "submitted together, have come back. Baseline: Piscina.",
  target: "InterpreterPoolExecutor ≥ 1.0× Piscina's tasks/s; ProcessPoolExecutor ≥ 10× Python's ProcessPoolExecutor.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const startup = new Map<string, number>()
    const { interpreter, process } = ourPools(workers)
    let piscina: Piscina | undefined
    let tinypool: Tinypool | undefined
    let wpool: workerpool.Pool | undefined
    const incModule = new URL("./fixtures/piscinaInc.mjs", import.meta.url).href
    try {
      // Each pool starts alone, so that start-up figures do not compete; the layers build on first use.
      startup.set("InterpreterPoolExecutor", await timed(() => submitAll(interpreter, workers)))
      startup.set("ProcessPoolExecutor", await timed(() => submitAll(process, workers)))
      startup.set(
        "Piscina",
        await timed(() => {
          piscina = new Piscina({ filename: incModule, minThreads: workers, maxThreads: workers })
          return Promise.all(xs.slice(0, workers).map((x) => piscina!.run(x)))
        })
      )
      startup.set(
        "Tinypool",
        await timed(() => {
          tinypool = new Tinypool({ filename: incModule, minThreads: workers, maxThreads: workers })
          return Promise.all(xs.slice(0, workers).map((x) => tinypool!.run(x)))
        })
      )
      startup.set(
        "workerpool",
        await timed(() => {
          wpool = workerpool.pool(new URL("./fixtures/workerpoolInc.mjs", import.meta.url).pathname, {
            minWorkers: workers,
            maxWorkers: workers,
            workerType: "thread"
          })
          return Promise.all(xs.slice(0, workers).map((x) => wpool!.exec("inc", [x])))
        })
      )
      await Promise.all([submitAll(interpreter, 1000), submitAll(process, 1000)])
      await Promise.all(xs.slice(0, 1000).map((x) => piscina!.run(x)))
      await Promise.all(xs.slice(0, 1000).map((x) => tinypool!.run(x)))
      await Promise.all(xs.slice(0, 1000).map((x) => wpool!.exec("inc", [x])))
      logStartup(bench, "W1", startup)
      const startupOf = (name: string) => () => startup.get(name)
      const python = pythonPeer(bench, "W1", ["submit", String(tasks), String(workers)], "ms", pythonNote)
      const systems: ReadonlyArray<System> = [
        {
          name: "Piscina",
          note: "`new Piscina({ minThreads: 2, maxThreads: 2 })`, `Promise.all(xs.map((x) => pool.run(x)))`.",
          run: () => Promise.all(xs.map((x) => piscina!.run(x))),
          startupMs: startupOf("Piscina")
        },
        {
          name: "Tinypool",
          note: "`new Tinypool({ minThreads: 2, maxThreads: 2 })`, `Promise.all(xs.map((x) => pool.run(x)))`.",
          run: () => Promise.all(xs.map((x) => tinypool!.run(x))),
          startupMs: startupOf("Tinypool")
        },
        {
          name: "workerpool",
          note: '`workerpool.pool(script, { minWorkers: 2, maxWorkers: 2, workerType: "thread" })`, `exec("inc", [x])`.',
          run: () => Promise.all(xs.map((x) => wpool!.exec("inc", [x]))),
          startupMs: startupOf("workerpool")
        },
        ...python.systems,
        {
          name: "InterpreterPoolExecutor",
          note: "`InterpreterPoolExecutor.layer({ maxWorkers: 2 })`: `Executor.submit(inc, x)` for every x, then `Future.result` of each.",
          ours: true,
          run: () => submitAll(interpreter, tasks),
          startupMs: startupOf("InterpreterPoolExecutor")
        },
        {
          name: "ProcessPoolExecutor",
          note: "`ProcessPoolExecutor.layer({ maxWorkers: 2 })`, the same calls.",
          ours: true,
          run: () => submitAll(process, tasks),
          startupMs: startupOf("ProcessPoolExecutor")
        }
      ]
      return python.withSkipped(
        await bench.compare({ workload: "W1", tasks, baseline: "Piscina", systems }),
        Units.tasksPerSecond
      )
    } finally {
      await Promise.all([
        interpreter.dispose(),
        process.dispose(),
        piscina?.destroy(),
        tinypool?.destroy(),
        wpool?.terminate()
      ])
    }
  }
}
