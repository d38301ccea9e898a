/**
 * W0: start-up. Each run is a fresh process (`fixtures/startup.ts`) that times
 * creating a 2-worker pool until 4 no-op calls, submitted together, have
 * answered: what a short program or a CLI pays before its first results.
 * Our two worker pools against Piscina and Tinypool.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { Bench, Row, System, Workload } from "./run.ts"

const script = fileURLToPath(new URL("./fixtures/startup.ts", import.meta.url))

/** A system whose every run is a fresh `node startup.ts name`, which prints its milliseconds. */
const fresh = (name: string, note: string, ours: boolean): System => ({
  name,
  note,
  ...(ours ? { ours: true, vs: ["Piscina", "Tinypool"] } : {}),
  selfMeasured: true,
  warmsItself: true,
  run: async () => {
    const run = spawnSync(process.execPath, [script, name], { encoding: "utf8", timeout: 60_000 })
    const ms = Number(run.stdout.trim())
    if (run.status !== 0 || !Number.isFinite(ms)) {
      throw new Error(`W0 ${name}: the start-up run failed (status ${run.status}): ${run.stderr}`)
    }
    return ms
  }
})

export const W0: Workload = {
  id: "W0",
  title: "start-up: a 2-worker pool until 4 calls have answered",
  description:
    "Each run is a fresh process that imports what it needs, then times creating a 2-worker pool until 4 " +
    "no-op calls, submitted together, have answered (our `layer` provided to `submit` + `result`; the " +
    "peers' constructor and `run`); the pool's shutdown afterwards is not timed, for any system. The task " +
    "module imports `effect-futures/Task` alone, as the docs advise. Lower is better.",
  target: "InterpreterPoolExecutor ≤ 1.5× Piscina's time; ProcessPoolExecutor ≤ 2.5× Piscina's time.",
  run: async (bench: Bench): Promise<Array<Row>> =>
    bench.compare({
      workload: "W0",
      tasks: 4,
      unit: { name: "ms to the first 4 answers", better: "lower", digits: 0 },
      systems: [
        fresh("Piscina", "`new Piscina({ minThreads: 2, maxThreads: 2 })`, 4 × `run` at once.", false),
        fresh("Tinypool", "`new Tinypool({ minThreads: 2, maxThreads: 2 })`, 4 × `run` at once.", false),
        fresh(
          "InterpreterPoolExecutor",
          "`InterpreterPoolExecutor.layer({ maxWorkers: 2 })`, 4 × `submit` then `result`.",
          true
        ),
        fresh("ProcessPoolExecutor", "`ProcessPoolExecutor.layer({ maxWorkers: 2 })`, the same calls.", true)
      ]
    })
}
