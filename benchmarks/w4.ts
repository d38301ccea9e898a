/**
 * W4: I/O-bound waiting. 2000 tasks that each sleep 5 ms, on 100 workers: the
 * ideal wall time is 2000 / 100 × 5 ms = 100 ms; the figure is the wall time
 * over that ideal. Our thread pool (fibers) sleeping through `Effect.sleep` and
 * through a `setTimeout` Promise, against Python's ThreadPoolExecutor with 100
 * threads, with two references that show what the timers alone cost: 100
 * chains of 20 `setTimeout`s and `Effect.forEach` with `concurrency: 100`.
 *
 * `BENCH_W4_THREADS=1` adds our interpreter pool and Piscina with 100 worker
 * threads each. They are left out by default: on a 2-CPU machine, starting 100
 * worker threads took minutes.
 */
import { Effect, ManagedRuntime } from "effect"
import { Piscina } from "piscina"
import { Executor, Future, InterpreterPoolExecutor, ThreadPoolExecutor } from "../src/index.ts"
import { pythonSystem, pythonVersion, timed, Units } from "./common.ts"
import { sleep } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const tasks = 2000
const workers = 100
const sleepMs = 5
const idealMs = (tasks / workers) * sleepMs

type Runtime = ManagedRuntime.ManagedRuntime<Executor.Executor, unknown>

/** Submit `n` copies of the task, then wait for every result. */
const submitAll = (
  runtime: Runtime,
  n: number,
  submit: Effect.Effect<Future.Future<unknown, unknown>, unknown, Executor.Executor>
) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const futures: Array<Future.Future<unknown, unknown>> = []
      for (let i = 0; i < n; i++) futures.push(yield* submit)
      for (const f of futures) yield* Future.result(f)
    })
  )

const effectSleep = Executor.submit(Effect.sleep(`${sleepMs} millis`))
const timerSleep = Executor.submit(() => new Promise<void>((resolve) => setTimeout(resolve, sleepMs)))
const taskSleep = Executor.submit(sleep, sleepMs)

/** The timers alone: `workers` loops, each sleeping `tasks / workers` times in turn. */
const timerChains = () =>
  Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < tasks / workers; i++) await new Promise((resolve) => setTimeout(resolve, sleepMs))
    })
  )

const forEachSleep = Effect.forEach(Array.from({ length: tasks }), () => Effect.sleep(`${sleepMs} millis`), {
  concurrency: workers,
  discard: true
})

export const W4: Workload = {
  id: "W4",
  title: "2000 tasks sleeping 5 ms on 100 workers",
  description:
    `${tasks} tasks that each wait ${sleepMs} ms, submitted at once to a pool of ${workers} workers, then all awaited. ` +
    "Two references without a pool show what the timers alone cost. Our interpreter pool and Piscina with 100 worker " +
    "threads each join with `BENCH_W4_THREADS=1` (left out by default: on this 2-CPU machine, starting 100 worker " +
    "threads took minutes). " +
    `Ideal: ${tasks} / ${workers} × ${sleepMs} ms = ${idealMs} ms; the figure is the wall time over that. ` +
    `Pools are started and warmed (one untimed pass) before timing. Start-up: creating the pool until its first ` +
    `${workers} sleeping calls, submitted together, have come back.`,
  target: "wall time ≤ 1.1 × ideal (110 ms) for the thread pool.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const withThreads = process.env.BENCH_W4_THREADS === "1"
    const thread = ManagedRuntime.make(ThreadPoolExecutor.layer({ maxWorkers: workers }))
    const interpreter = ManagedRuntime.make(InterpreterPoolExecutor.layer({ maxWorkers: workers }))
    const module = new URL("./fixtures/piscinaTasks.mjs", import.meta.url).href
    let piscina: Piscina | undefined
    const piscinaAll = (n: number) =>
      Promise.all(Array.from({ length: n }, () => piscina!.run(sleepMs, { name: "sleep" })))
    try {
      const startup = new Map<string, number>()
      startup.set("ThreadPoolExecutor", await timed(() => submitAll(thread, workers, effectSleep)))
      if (withThreads) {
        startup.set("InterpreterPoolExecutor", await timed(() => submitAll(interpreter, workers, taskSleep)))
        startup.set(
          "Piscina",
          await timed(() => {
            piscina = new Piscina({ filename: module, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 })
            return piscinaAll(workers)
          })
        )
        await submitAll(interpreter, tasks, taskSleep)
        await piscinaAll(tasks)
      } else {
        bench.log("W4: leaving out the 100-thread pools (set BENCH_W4_THREADS=1 to include them)")
      }
      await submitAll(thread, tasks, effectSleep)
      await submitAll(thread, tasks, timerSleep)
      bench.log(
        `W4: pools started (${[...startup].map(([n, ms]) => `${n} ${ms.toFixed(0)} ms`).join(", ")}) and warmed`
      )
      const python = pythonVersion()
      const pythonName = `Python ${"version" in python ? `${python.version} ` : ""}ThreadPoolExecutor`
      const pythonNote =
        `\`ThreadPoolExecutor(max_workers=${workers})\`: \`submit(time.sleep, ${sleepMs / 1000})\` ${tasks} times, then \`result()\` of each; ` +
        "a fresh `python3` per round, timed inside after one untimed pass."
      if ("missing" in python) bench.log(`W4: skipping the Python peer: ${python.missing}`)
      const peers = [...(withThreads ? ["Piscina"] : []), ...("version" in python ? [pythonName] : [])]
      const piscinaSystem: System = {
        name: "Piscina",
        note: `\`new Piscina({ minThreads: ${workers}, maxThreads: ${workers} })\`, a task awaiting a ${sleepMs} ms \`setTimeout\`; \`Promise.all\` of ${tasks} \`run\`s.`,
        run: () => piscinaAll(tasks),
        startupMs: () => startup.get("Piscina")
      }
      const interpreterSystem: System = {
        name: "InterpreterPoolExecutor",
        note: `\`InterpreterPoolExecutor.layer({ maxWorkers: ${workers} })\`: \`Executor.submit(sleep, ${sleepMs})\`, a Task awaiting a \`setTimeout\`.`,
        ours: true,
        vs: peers,
        run: () => submitAll(interpreter, tasks, taskSleep),
        startupMs: () => startup.get("InterpreterPoolExecutor")
      }
      const systems: ReadonlyArray<System> = [
        {
          name: "Reference: 100 chains of setTimeout",
          note: `No pool: \`Promise.all\` of ${workers} async loops, each awaiting ${tasks / workers} \`setTimeout(resolve, ${sleepMs})\` in turn: what Node's timers alone cost.`,
          run: () => timerChains()
        },
        {
          name: "Reference: Effect.forEach, concurrency 100",
          note: `No pool: \`Effect.forEach(xs, () => Effect.sleep("${sleepMs} millis"), { concurrency: ${workers}, discard: true })\`.`,
          run: () => Effect.runPromise(forEachSleep)
        },
        ...(withThreads ? [piscinaSystem] : []),
        ...("version" in python
          ? [
              pythonSystem({
                name: pythonName,
                note: pythonNote,
                args: ["sleep", String(tasks), String(workers), String(sleepMs)],
                reports: "ms"
              })
            ]
          : []),
        {
          name: "ThreadPoolExecutor, Effect.sleep",
          note: `\`ThreadPoolExecutor.layer({ maxWorkers: ${workers} })\`: \`Executor.submit(Effect.sleep("${sleepMs} millis"))\` ${tasks} times, then \`Future.result\` of each.`,
          ours: true,
          vs: peers,
          run: () => submitAll(thread, tasks, effectSleep),
          startupMs: () => startup.get("ThreadPoolExecutor")
        },
        {
          name: "ThreadPoolExecutor, setTimeout",
          note: `The same pool: \`Executor.submit(() => new Promise((resolve) => setTimeout(resolve, ${sleepMs})))\`.`,
          ours: true,
          vs: peers,
          run: () => submitAll(thread, tasks, timerSleep),
          startupMs: () => startup.get("ThreadPoolExecutor")
        },
        ...(withThreads ? [interpreterSystem] : [])
      ]
      const rows = await bench.compare({
        workload: "W4",
        tasks,
        systems,
        unit: Units.wallOverIdeal,
        figure: (ms) => ms / idealMs
      })
      return "missing" in python
        ? [...rows, bench.skipped("W4", pythonName, Units.wallOverIdeal, python.missing)]
        : rows
    } finally {
      await Promise.all([thread.dispose(), interpreter.dispose(), piscina?.destroy()])
    }
  }
}
