/**
 * W3: CPU-bound work, Python's own docs example. `is_prime` over the docs'
 * PRIMES, repeated, on 2 workers: the speedup over running the same calls one
 * after another on one thread, for each pool.
 */
import { availableParallelism } from "node:os"
import { isDeepStrictEqual } from "node:util"
import { type ManagedRuntime, Stream } from "effect"
import { Piscina } from "piscina"
import { isPrime as isPrimeFn, PRIMES } from "../examples/tasks/isPrime.ts"
import { Executor } from "../src/index.ts"
import { logStartup, median, ourPools, piscinaTasks, pythonPeer, timed, Units } from "./common.ts"
import { isPrime } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const workers = 2
/** PRIMES has five primes of about the same cost and one cheap composite: 4 copies split evenly over 2 workers. */
const repeat = 4
const numbers = Array.from({ length: repeat }, () => PRIMES).flat()
const expected = numbers.map(isPrimeFn)
const sequentialName = "Sequential, main thread"

type Runtime = ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>

const check = (out: ReadonlyArray<boolean>): void => {
  if (!isDeepStrictEqual(out, expected)) throw new Error("W3: wrong results")
}

const mapAll = (runtime: Runtime, items: ReadonlyArray<number>): Promise<Array<boolean>> =>
  runtime.runPromise(Executor.map(isPrime, items, { chunksize: 1 }).pipe(Stream.runCollect))

/** What the Python peer runs. */
const pythonNote =
  `\`list(executor.map(is_prime, PRIMES * ${repeat}))\` on \`ProcessPoolExecutor(max_workers=${workers})\` ` +
  "(default start method), over the same list run sequentially in the same `python3` just before; a fresh `python3` per round."

export const W3: Workload = {
  id: "W3",
  title: "CPU-bound: is_prime over the docs' PRIMES on 2 workers",
  description:
    `Python's \`ProcessPoolExecutor\` example: \`is_prime\` (trial division by odd numbers) over the docs' six PRIMES, ` +
    `repeated ${repeat} times (${numbers.length} calls, five in six of about the same cost), on pools of ${workers} workers. ` +
    "Figure: the speedup over the same calls run one after another on one thread in the same round (for " +
    "Python, in the same interpreter): ideally the number of workers. Start-up: creating the pool until " +
    `its first ${workers} calls, submitted together, have come back (not timed). Machine: ${availableParallelism()} CPUs.`,
  target: "speedup ≥ 0.95 × cores (1.90 on 2 cores) for both of our worker pools.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const { interpreter, process } = ourPools(workers)
    let piscina: Piscina | undefined
    try {
      const startup = new Map<string, number>()
      const small = [3, 5]
      startup.set("InterpreterPoolExecutor", await timed(() => mapAll(interpreter, small)))
      startup.set("ProcessPoolExecutor", await timed(() => mapAll(process, small)))
      startup.set(
        "Piscina",
        await timed(() => {
          piscina = new Piscina({ filename: piscinaTasks, minThreads: workers, maxThreads: workers })
          return Promise.all(small.map((n) => piscina!.run(n, { name: "isPrime" })))
        })
      )
      logStartup(bench, "W3", startup, false)
      const sequentialMs: Array<number> = []
      const python = pythonPeer(bench, "W3", ["primes", String(repeat), String(workers)], "figure", pythonNote)
      const peers = ["Piscina", ...python.systems.map((system) => system.name)]
      const systems: ReadonlyArray<System> = [
        {
          name: sequentialName,
          get note() {
            return `\`numbers.map(isPrime)\` in the benchmark's own thread: the reference of every Node pool (speedup 1 by definition); median ${median(sequentialMs).toFixed(0)} ms a pass.`
          },
          run: async () => check(numbers.map(isPrimeFn))
        },
        {
          name: "Piscina",
          note: `\`new Piscina({ minThreads: ${workers}, maxThreads: ${workers} })\`, \`Promise.all(numbers.map((n) => pool.run(n, { name: "isPrime" })))\`.`,
          run: async () => check(await Promise.all(numbers.map((n) => piscina!.run(n, { name: "isPrime" })))),
          startupMs: () => startup.get("Piscina")
        },
        ...python.systems,
        {
          name: "InterpreterPoolExecutor",
          note: `\`InterpreterPoolExecutor.layer({ maxWorkers: ${workers} })\`: \`Executor.map(isPrime, numbers, { chunksize: 1 }).pipe(Stream.runCollect)\`.`,
          ours: true,
          vs: peers,
          run: async () => check(await mapAll(interpreter, numbers)),
          startupMs: () => startup.get("InterpreterPoolExecutor")
        },
        {
          name: "ProcessPoolExecutor",
          note: `\`ProcessPoolExecutor.layer({ maxWorkers: ${workers} })\`, the same call.`,
          ours: true,
          vs: peers,
          run: async () => check(await mapAll(process, numbers)),
          startupMs: () => startup.get("ProcessPoolExecutor")
        }
      ]
      const raw = await bench.rounds({ workload: "W3", systems })
      const sequential = raw.get(sequentialName)!
      sequentialMs.push(...sequential)
      const figures = new Map<string, ReadonlyArray<number>>()
      for (const system of systems) {
        const xs = raw.get(system.name)!
        figures.set(system.name, system.selfMeasured === true ? xs : xs.map((ms, i) => sequential[i]! / ms))
      }
      return python.withSkipped(
        bench.rows({ workload: "W3", unit: Units.speedup, tasks: numbers.length, systems, figures }),
        Units.speedup
      )
    } finally {
      await Promise.all([interpreter.dispose(), process.dispose(), piscina?.destroy()])
    }
  }
}
