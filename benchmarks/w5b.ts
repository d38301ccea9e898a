/**
 * W5b: many in flight. 500 calls, each with a 1 MiB Float64Array, submitted
 * at once to a pool of 2 workers; each sums its array into its first element
 * and sends it back. Copied (structured clone, or a child's IPC) both ways,
 * and moved both ways (`Task.transfer`; Piscina's `transferList` and `move`).
 */
import { Effect, type ManagedRuntime } from "effect"
import { Piscina } from "piscina"
import { Executor, Future, Task } from "../src/index.ts"
import { logStartup, ourPools, piscinaTasks, pythonPeer, timed, Units } from "./common.ts"
import { sumBack, sumBackTransfer } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const calls = 500
const workers = 2
const mib = 1 << 20
const length = mib / Float64Array.BYTES_PER_ELEMENT

type Runtime = ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>

/**
 * One array per call, made before the timing: a moved buffer is gone from the sender, and calls
 * that share an array go to their worker in messages apart.
 */
const arrays = (n: number): Array<Float64Array<ArrayBuffer>> =>
  Array.from({ length: n }, () => new Float64Array(length).fill(1))

const checked = (results: ReadonlyArray<Float64Array>, n: number): void => {
  if (results.length !== n || results.some((data) => data.length !== length || data[0] !== length)) {
    throw new Error("W5b: an array did not come back summed")
  }
}

/** `n` calls submitted at once, then every result; the milliseconds from the first submit to the last result. */
const ours = async (runtime: Runtime, n: number, move: boolean): Promise<number> => {
  const inputs = arrays(n)
  const start = performance.now()
  const results = await runtime.runPromise(
    Effect.gen(function* () {
      const futures = yield* Effect.forEach(inputs, (data) =>
        move ? Executor.submit(sumBackTransfer, Task.transfer(data, [data.buffer])) : Executor.submit(sumBack, data)
      )
      return yield* Effect.forEach(futures, (future) => Future.result(future))
    })
  )
  const ms = performance.now() - start
  checked(results, n)
  return ms
}

const piscinaCalls = async (piscina: Piscina, n: number, move: boolean): Promise<number> => {
  const inputs = arrays(n)
  const start = performance.now()
  const results: ReadonlyArray<Float64Array> = await Promise.all(
    inputs.map((data) =>
      move
        ? piscina.run(data, { name: "sumBackMove", transferList: [data.buffer] })
        : piscina.run(data, { name: "sumBack" })
    )
  )
  const ms = performance.now() - start
  checked(results, n)
  return ms
}

/** What the Python peer runs. */
const pythonNote =
  "`ProcessPoolExecutor(max_workers=2)`: 500 × `submit(sum_back, data)` with `data` an `array('d')` of 1 MiB, " +
  "then `result()` of each; a fresh `python3` per round, timed inside after a warm-up."

export const W5b: Workload = {
  id: "W5b",
  title: "many in flight: 500 calls with a 1 MiB Float64Array each, submitted at once",
  description:
    `${calls} calls, each with a 1 MiB \`Float64Array\` (${length.toLocaleString("en-US")} doubles), submitted at once to ` +
    "a pool of 2 workers; each sums its array into its first element and sends the array back; then every result. " +
    "Figure: MiB moved per second, 2 MiB a call (there and back), timed from the first submit to the last result. " +
    "*Copy*: structured clone both ways (a child process: its IPC channel). *Transfer*: the buffer moved both ways " +
    "(`Task.transfer` as argument and as result; Piscina's `transferList` and `Piscina.move`). Each call has an " +
    "array of its own, made before the timing. Pools are started and warmed before timing.",
  target:
    "InterpreterPoolExecutor ≥ 1.0× Piscina copying and ≥ 1.3× Piscina moving; ProcessPoolExecutor ≥ 1.0× " +
    "Python's ProcessPoolExecutor.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const { interpreter, process } = ourPools(workers)
    let piscina: Piscina | undefined
    try {
      const startup = new Map<string, number>()
      startup.set("InterpreterPoolExecutor", await timed(() => ours(interpreter, workers, false)))
      startup.set("ProcessPoolExecutor", await timed(() => ours(process, workers, false)))
      startup.set(
        "Piscina",
        await timed(() => {
          piscina = new Piscina({ filename: piscinaTasks, minThreads: workers, maxThreads: workers })
          return piscinaCalls(piscina, workers, false)
        })
      )
      for (const move of [false, true]) {
        await ours(interpreter, 50, move)
        await ours(process, 50, move)
        await piscinaCalls(piscina!, 50, move)
      }
      logStartup(bench, "W5b", startup)
      const python = pythonPeer(bench, "W5b", ["many", String(calls), String(workers)], "ms", pythonNote)
      const systems: ReadonlyArray<System> = [
        {
          name: "Piscina, copy",
          note: '`new Piscina({ minThreads: 2, maxThreads: 2 })`: 500 × `pool.run(data, { name: "sumBack" })` at once.',
          selfTimed: true,
          run: () => piscinaCalls(piscina!, calls, false),
          startupMs: () => startup.get("Piscina")
        },
        {
          name: "Piscina, transfer",
          note: '500 × `pool.run(data, { name: "sumBackMove", transferList: [data.buffer] })`, the task returning `Piscina.move(data)`.',
          selfTimed: true,
          run: () => piscinaCalls(piscina!, calls, true),
          startupMs: () => startup.get("Piscina")
        },
        ...python.systems,
        {
          name: "InterpreterPoolExecutor, copy",
          note: "`InterpreterPoolExecutor.layer({ maxWorkers: 2 })`: 500 × `Executor.submit(sumBack, data)`, then `Future.result` of each.",
          ours: true,
          vs: ["Piscina, copy"],
          selfTimed: true,
          run: () => ours(interpreter, calls, false),
          startupMs: () => startup.get("InterpreterPoolExecutor")
        },
        {
          name: "InterpreterPoolExecutor, transfer",
          note: "500 × `Executor.submit(sumBackTransfer, Task.transfer(data, [data.buffer]))`, the task returning `Task.transfer(data, [data.buffer])`.",
          ours: true,
          vs: ["Piscina, transfer"],
          selfTimed: true,
          run: () => ours(interpreter, calls, true),
          startupMs: () => startup.get("InterpreterPoolExecutor")
        },
        {
          name: "ProcessPoolExecutor, copy",
          note: "`ProcessPoolExecutor.layer({ maxWorkers: 2 })`, the copying calls (a process cannot take a moved buffer).",
          ours: true,
          vs: [python.name],
          selfTimed: true,
          run: () => ours(process, calls, false),
          startupMs: () => startup.get("ProcessPoolExecutor")
        }
      ]
      return python.withSkipped(
        await bench.compare({
          workload: "W5b",
          tasks: calls,
          systems,
          unit: Units.mibPerSecond,
          figure: (ms) => (calls * 2) / (ms / 1000)
        }),
        Units.mibPerSecond
      )
    } finally {
      await Promise.all([interpreter.dispose(), process.dispose(), piscina?.destroy()])
    }
  }
}
