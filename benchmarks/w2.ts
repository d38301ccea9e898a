/**
 * W2: many tiny in-process tasks. 100,000 calls of `x => x + 1`, at most 4 at
 * once. This measures the executor's own cost per task (future, queue, fiber,
 * result), since the task itself costs next to nothing.
 *
 * Systems:
 * - raw `Effect.forEach(xs, x => Effect.sync(() => x + 1), { concurrency: 4 })`: the baseline;
 * - two sequential `Effect.forEach` passes without a pool: the floor of the submit-then-result shape;
 * - `ThreadPoolExecutor({ maxWorkers: 4 })`: `submit` each, then `Future.result` each;
 * - the same pool through `Executor.map`;
 * - Python's `ThreadPoolExecutor(max_workers=4)`, `submit` + `result`, when `python3` is on PATH.
 */
import { execFile, spawnSync } from "node:child_process"
import { Effect, Stream } from "effect"
import { Executor, Future, ThreadPoolExecutor } from "../src/index.ts"
import { Units } from "./common.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const tasks = 100_000
const maxWorkers = 4
const xs = Array.from({ length: tasks }, (_, i) => i)
const inc = (x: number): number => x + 1

const pool = ThreadPoolExecutor.layer({ maxWorkers })

const rawForEach: System = {
  name: "Effect.forEach (raw)",
  note: "`Effect.forEach(xs, (x) => Effect.sync(() => x + 1), { concurrency: 4 })`.",
  run: () => Effect.runPromise(Effect.forEach(xs, (x) => Effect.sync(() => inc(x)), { concurrency: maxWorkers }))
}

/**
 * What the submit-then-result shape costs in Effect alone: two sequential passes, one making an
 * object per item, one reading it back. No pool can cost less per task in this shape.
 */
const twoPasses: System = {
  name: "Reference: two Effect.forEach passes, no pool",
  note:
    "`Effect.forEach(xs, (x) => Effect.sync(() => ({ value: x + 1 })))`, then `Effect.forEach` of those reading " +
    "`value`: the shape of submit + result without a pool.",
  run: () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const boxes = yield* Effect.forEach(xs, (x) => Effect.sync(() => ({ value: inc(x) })))
        return yield* Effect.forEach(boxes, (box) => Effect.sync(() => box.value))
      })
    )
}

const submitAndResult: System = {
  name: "ThreadPoolExecutor submit + result",
  ours: true,
  note:
    "`executor.submit(inc, x)` for every x, then `Future.result` of every future, in order; " +
    "the pool is built and shut down (`Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 4 }))`) inside the timing.",
  run: () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const futures = yield* Effect.forEach(xs, (x) => executor.submit(inc, x))
        return yield* Effect.forEach(futures, (f) => Future.result(f))
      }).pipe(Effect.provide(pool))
    )
}

const map: System = {
  name: "ThreadPoolExecutor Executor.map",
  ours: true,
  note: "`Executor.map(inc, xs).pipe(Stream.runCollect)` (no `buffersize`), same pool setup.",
  run: () => Effect.runPromise(Executor.map(inc, xs).pipe(Stream.runCollect, Effect.provide(pool)))
}

/** Python's peer, timed inside Python (interpreter start-up excluded), after a 10% warm-up pass. */
const pythonScript = `
import sys, time
from concurrent.futures import ThreadPoolExecutor

def once(n):
    with ThreadPoolExecutor(max_workers=${maxWorkers}) as executor:
        futures = [executor.submit(lambda x: x + 1, i) for i in range(n)]
        for f in futures:
            f.result()

n = int(sys.argv[1])
once(n // 10)
start = time.perf_counter()
once(n)
print(n / (time.perf_counter() - start))
`

const python = (): System | string => {
  const version = spawnSync("python3", ["--version"], { encoding: "utf8" })
  if (version.error !== undefined || version.status !== 0) return "python3 is not on PATH"
  return {
    name: `Python ${version.stdout.trim().replace(/^Python /, "")} ThreadPoolExecutor`,
    note: `\`ThreadPoolExecutor(max_workers=4)\`: \`submit(lambda x: x + 1, i)\` for every i, then \`result()\` of each; timed inside a fresh \`python3\` per round.`,
    selfTimed: true,
    warmsItself: true,
    run: () =>
      new Promise<number>((resolve, reject) =>
        execFile("python3", ["-c", pythonScript, String(tasks)], (error, stdout) => {
          if (error !== null) return reject(error)
          const rate = Number(stdout.trim())
          return Number.isFinite(rate) && rate > 0
            ? resolve((tasks / rate) * 1000)
            : reject(new Error(`python3 printed ${JSON.stringify(stdout)}`))
        })
      )
  }
}

export const W2: Workload = {
  id: "W2",
  title: "100k tiny in-process tasks, at most 4 at once",
  description:
    "100,000 calls of `x => x + 1` with at most 4 running at once: the executor's own cost per task " +
    "(future, queue, fiber, result). Baseline: raw `Effect.forEach` with `concurrency: 4`. The reference without a " +
    "pool runs the submit-then-result shape in Effect alone (two sequential passes), the floor for that shape.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const peer = python()
    if (typeof peer === "string") bench.log(`W2: skipping the Python peer: ${peer}`)
    const systems = [rawForEach, twoPasses, submitAndResult, map, ...(typeof peer === "string" ? [] : [peer])]
    const rows = await bench.compare({ workload: "W2", tasks, baseline: rawForEach.name, systems })
    if (typeof peer !== "string") return rows
    return [...rows, bench.skipped("W2", "Python ThreadPoolExecutor", Units.tasksPerSecond, peer)]
  }
}
