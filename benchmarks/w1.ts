/**
 * W1: 100k tiny tasks submitted one by one to a 2-worker pool, then all
 * awaited. Our interpreter pool against Piscina, Tinypool and workerpool (all
 * on worker_threads), and our process pool alongside. Pools are started and
 * warmed before timing.
 */
import { Effect, ManagedRuntime } from "effect"
import { Piscina } from "piscina"
import { Tinypool } from "tinypool"
import workerpool from "workerpool"
import { Executor, Future, InterpreterPoolExecutor, ProcessPoolExecutor } from "../src/index.ts"
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

export const W1: Workload = {
  id: "W1",
  title: "100k tiny tasks to a 2-worker pool",
  description:
    "100,000 calls of `x => x + 1` submitted one by one to a pool of 2 workers, then all awaited " +
    "(`Executor.submit` + `Future.result`; the peers' `run`/`exec` + `Promise.all`). Pools are started and warmed " +
    "before timing; start-up is not counted. Baseline: Piscina.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const interpreter = ManagedRuntime.make(InterpreterPoolExecutor.layer({ maxWorkers: workers }))
    const process = ManagedRuntime.make(ProcessPoolExecutor.layer({ maxWorkers: workers }))
    const incModule = new URL("./fixtures/piscinaInc.mjs", import.meta.url).href
    const piscina = new Piscina({ filename: incModule, minThreads: workers, maxThreads: workers })
    const tinypool = new Tinypool({ filename: incModule, minThreads: workers, maxThreads: workers })
    const wpool = workerpool.pool(new URL("./fixtures/workerpoolInc.mjs", import.meta.url).pathname, {
      minWorkers: workers,
      maxWorkers: workers,
      workerType: "thread"
    })
    try {
      const started = performance.now()
      await Promise.all([submitAll(interpreter, 1000), submitAll(process, 1000)])
      await Promise.all(xs.slice(0, 1000).map((x) => piscina.run(x)))
      await Promise.all(xs.slice(0, 1000).map((x) => tinypool.run(x)))
      await Promise.all(xs.slice(0, 1000).map((x) => wpool.exec("inc", [x])))
      bench.log(`W1: pools started and warmed in ${(performance.now() - started).toFixed(0)} ms`)
      const systems: ReadonlyArray<System> = [
        {
          name: "Piscina",
          note: "`new Piscina({ minThreads: 2, maxThreads: 2 })`, `Promise.all(xs.map((x) => pool.run(x)))`.",
          run: () => Promise.all(xs.map((x) => piscina.run(x)))
        },
        {
          name: "Tinypool",
          note: "`new Tinypool({ minThreads: 2, maxThreads: 2 })`, `Promise.all(xs.map((x) => pool.run(x)))`.",
          run: () => Promise.all(xs.map((x) => tinypool.run(x)))
        },
        {
          name: "workerpool",
          note: '`workerpool.pool(script, { minWorkers: 2, maxWorkers: 2, workerType: "thread" })`, `exec("inc", [x])`.',
          run: () => Promise.all(xs.map((x) => wpool.exec("inc", [x])))
        },
        {
          name: "InterpreterPoolExecutor",
          note: "`InterpreterPoolExecutor.layer({ maxWorkers: 2 })`: `Executor.submit(inc, x)` for every x, then `Future.result` of each.",
          run: () => submitAll(interpreter, tasks)
        },
        {
          name: "ProcessPoolExecutor",
          note: "`ProcessPoolExecutor.layer({ maxWorkers: 2 })`, the same calls.",
          run: () => submitAll(process, tasks)
        }
      ]
      return await bench.compare({ workload: "W1", tasks, baseline: "Piscina", systems })
    } finally {
      await Promise.all([
        interpreter.dispose(),
        process.dispose(),
        piscina.destroy(),
        tinypool.destroy(),
        wpool.terminate()
      ])
    }
  }
}
