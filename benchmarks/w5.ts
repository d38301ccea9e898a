/**
 * W5: moving data. 500 round trips of a 1 MiB Float64Array to a worker and
 * back, one after another: copied (structured clone) both ways, and moved
 * (`Task.transfer`; Piscina's `transferList` and `move`) both ways.
 */
import { Effect, type ManagedRuntime } from "effect"
import { Piscina } from "piscina"
import { Executor, Future, Task } from "../src/index.ts"
import { logStartup, ourPools, piscinaTasks, timed, Units } from "./common.ts"
import { echo, echoTransfer } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const roundTrips = 500
const workers = 2
const mib = 1 << 20
const length = mib / Float64Array.BYTES_PER_ELEMENT

type Runtime = ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>

const checked = (data: Float64Array, n: number): void => {
  if (data.length !== length || data[0] !== n) throw new Error("W5: the array did not come back whole")
}

/** `n` round trips, each waiting for the last: the array goes out and comes back, copied or moved. */
const ours = (runtime: Runtime, n: number, move: boolean) =>
  runtime.runPromise(
    Effect.gen(function* () {
      let data = new Float64Array(length)
      for (let i = 0; i < n; i++) {
        const future = move
          ? yield* Executor.submit(echoTransfer, Task.transfer(data, [data.buffer]))
          : yield* Executor.submit(echo, data)
        data = yield* Future.result(future)
      }
      checked(data, n)
    })
  )

const piscinaTrips = async (piscina: Piscina, n: number, move: boolean): Promise<void> => {
  let data = new Float64Array(length)
  for (let i = 0; i < n; i++) {
    data = move
      ? await piscina.run(data, { name: "echoMove", transferList: [data.buffer] })
      : await piscina.run(data, { name: "echo" })
  }
  checked(data, n)
}

export const W5: Workload = {
  id: "W5",
  title: "500 round trips of a 1 MiB Float64Array",
  description:
    `${roundTrips} round trips of a 1 MiB \`Float64Array\` (${length.toLocaleString("en-US")} doubles) to a worker that adds 1 to its ` +
    "first element and sends it back, each trip waiting for the last, on pools of 2 workers. Figure: MiB moved per " +
    "second, 2 MiB a trip (there and back). *Copy*: structured clone both ways. *Transfer*: the buffer moved both " +
    "ways (`Task.transfer` as argument and as result; Piscina's `transferList` and `Piscina.move`). Child processes " +
    "always copy, through their IPC channel. Pools are started and warmed before timing. Start-up: creating the pool " +
    "until its first call has come back.",
  target: "InterpreterPoolExecutor with transfer ≥ 1.0× Piscina with transfer.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const { interpreter, process } = ourPools(workers)
    let piscina: Piscina | undefined
    try {
      const startup = new Map<string, number>()
      startup.set("InterpreterPoolExecutor", await timed(() => ours(interpreter, 1, false)))
      startup.set("ProcessPoolExecutor", await timed(() => ours(process, 1, false)))
      startup.set(
        "Piscina",
        await timed(() => {
          piscina = new Piscina({ filename: piscinaTasks, minThreads: workers, maxThreads: workers })
          return piscinaTrips(piscina, 1, false)
        })
      )
      for (const move of [false, true]) {
        await ours(interpreter, 50, move)
        await ours(process, 50, move)
        await piscinaTrips(piscina!, 50, move)
      }
      logStartup(bench, "W5", startup)
      const systems: ReadonlyArray<System> = [
        {
          name: "Piscina, copy",
          note: '`new Piscina({ minThreads: 2, maxThreads: 2 })`: `data = await pool.run(data, { name: "echo" })`.',
          run: () => piscinaTrips(piscina!, roundTrips, false),
          startupMs: () => startup.get("Piscina")
        },
        {
          name: "Piscina, transfer",
          note: '`data = await pool.run(data, { name: "echoMove", transferList: [data.buffer] })`, the task returning `Piscina.move(data)`.',
          run: () => piscinaTrips(piscina!, roundTrips, true),
          startupMs: () => startup.get("Piscina")
        },
        {
          name: "InterpreterPoolExecutor, copy",
          note: "`InterpreterPoolExecutor.layer({ maxWorkers: 2 })`: `data = yield* Future.result(yield* Executor.submit(echo, data))`.",
          ours: true,
          vs: ["Piscina, copy"],
          run: () => ours(interpreter, roundTrips, false),
          startupMs: () => startup.get("InterpreterPoolExecutor")
        },
        {
          name: "InterpreterPoolExecutor, transfer",
          note: "`Executor.submit(echoTransfer, Task.transfer(data, [data.buffer]))`, the task returning `Task.transfer(data, [data.buffer])`.",
          ours: true,
          vs: ["Piscina, transfer"],
          run: () => ours(interpreter, roundTrips, true),
          startupMs: () => startup.get("InterpreterPoolExecutor")
        },
        {
          name: "ProcessPoolExecutor, copy",
          note: "`ProcessPoolExecutor.layer({ maxWorkers: 2 })`, the copying calls (a process cannot take a moved buffer).",
          ours: true,
          vs: ["Piscina, copy"],
          run: () => ours(process, roundTrips, false),
          startupMs: () => startup.get("ProcessPoolExecutor")
        }
      ]
      return await bench.compare({
        workload: "W5",
        tasks: roundTrips,
        systems,
        unit: Units.mibPerSecond,
        figure: (ms) => (roundTrips * 2) / (ms / 1000)
      })
    } finally {
      await Promise.all([interpreter.dispose(), process.dispose(), piscina?.destroy()])
    }
  }
}
