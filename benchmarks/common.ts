/**
 * What several workloads share: the units figures are reported in, the median,
 * and running the Python peers (`fixtures/peers.py`, one fresh `python3` per run).
 */
import { execFile, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ManagedRuntime } from "effect"
import { InterpreterPoolExecutor, ProcessPoolExecutor } from "../src/index.ts"
import type { Bench, Row, System } from "./run.ts"

/** What a workload's figures are, and which way is better. */
export interface Unit {
  /** Column label, e.g. `tasks/s`. */
  readonly name: string
  readonly better: "higher" | "lower"
  /** Decimals shown. */
  readonly digits: number
}

/** The units the workloads report in. */
export const Units = {
  tasksPerSecond: { name: "tasks/s", better: "higher", digits: 0 },
  speedup: { name: "speedup over sequential", better: "higher", digits: 2 },
  wallOverIdeal: { name: "wall time / ideal", better: "lower", digits: 2 },
  mibPerSecond: { name: "MiB/s", better: "higher", digits: 0 },
  rssGrowthMib: { name: "peak RSS growth (MiB)", better: "lower", digits: 1 }
} as const satisfies Record<string, Unit>

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

// ---------------------------------------------------------------------------
// Python peers
// ---------------------------------------------------------------------------

const peersScript = fileURLToPath(new URL("./fixtures/peers.py", import.meta.url))

/** `python3`'s version (e.g. `3.11.7`), or why there is no Python peer here. */
export const pythonVersion = (): { readonly version: string } | { readonly missing: string } => {
  const out = spawnSync("python3", ["--version"], { encoding: "utf8" })
  if (out.error !== undefined || out.status !== 0) return { missing: "python3 is not on PATH" }
  return { version: out.stdout.trim().replace(/^Python /, "") }
}

/** What `peers.py` prints: the run's value (milliseconds or the figure itself) and the pool's start-up. */
interface PeerOutput {
  readonly value: number
  readonly startupMs?: number
}

const runPeer = (args: ReadonlyArray<string>): Promise<PeerOutput> =>
  new Promise((resolve, reject) =>
    execFile("python3", [peersScript, ...args], { maxBuffer: 1 << 20, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`python3 peers.py ${args.join(" ")}: ${error.message}\n${stderr}`))
      const lines = stdout.trim().split("\n")
      try {
        const out = JSON.parse(lines[lines.length - 1]!) as PeerOutput
        if (typeof out.value !== "number" || !Number.isFinite(out.value)) throw new Error("no value")
        return resolve(out)
      } catch {
        return reject(new Error(`python3 peers.py ${args.join(" ")} printed ${JSON.stringify(stdout)}`))
      }
    })
  )

/**
 * A Python peer: `python3 fixtures/peers.py ...args` in a fresh interpreter per run,
 * which starts its pool, warms it, and times itself (interpreter and pool start-up
 * excluded; the pool's start-up is reported apart).
 */
export const pythonSystem = (options: {
  readonly name: string
  readonly note: string
  readonly args: ReadonlyArray<string>
  /** `ms`: the script prints the run's milliseconds; `figure`: the workload's figure itself. */
  readonly reports: "ms" | "figure"
}): System => {
  const startups: Array<number> = []
  return {
    name: options.name,
    note: options.note,
    warmsItself: true,
    ...(options.reports === "ms" ? { selfTimed: true } : { selfMeasured: true }),
    run: async () => {
      const out = await runPeer(options.args)
      if (out.startupMs !== undefined) startups.push(out.startupMs)
      return out.value
    },
    startupMs: () => (startups.length === 0 ? undefined : median(startups))
  }
}

/** A workload's Python `ProcessPoolExecutor` peer, or the row that says why there is none. */
export interface PythonPeer {
  /** `Python 3.x.y ProcessPoolExecutor`, without the version where there is no `python3`. */
  readonly name: string
  /** The peer, or none where there is no `python3`. */
  readonly systems: ReadonlyArray<System>
  /** `rows`, with the peer's row saying why it did not run where there is no `python3`. */
  readonly withSkipped: (rows: Array<Row>, unit: Unit) => Array<Row>
}

/** The Python peer of `workload`: `python3 fixtures/peers.py ...args`, or a skipped row, logged. */
export const pythonPeer = (
  bench: Bench,
  workload: string,
  args: ReadonlyArray<string>,
  reports: "ms" | "figure",
  note: string
): PythonPeer => {
  const python = pythonVersion()
  if ("missing" in python) {
    const name = "Python ProcessPoolExecutor"
    bench.log(`${workload}: skipping the Python peer: ${python.missing}`)
    return {
      name,
      systems: [],
      withSkipped: (rows, unit) => [...rows, bench.skipped(workload, name, unit, python.missing, note)]
    }
  }
  const name = `Python ${python.version} ProcessPoolExecutor`
  return { name, systems: [pythonSystem({ name, note, args, reports })], withSkipped: (rows) => rows }
}

/** Logs the pools' start-up times: `W1: pools started (Piscina 93 ms, ...) and warmed`. */
export const logStartup = (bench: Bench, workload: string, startup: ReadonlyMap<string, number>, warmed = true): void =>
  bench.log(
    `${workload}: pools started (${[...startup].map(([name, ms]) => `${name} ${ms.toFixed(0)} ms`).join(", ")})${warmed ? " and warmed" : ""}`
  )

/** Our two worker pools, of `workers` workers each, each started on its first use. */
export const ourPools = (workers: number) => ({
  interpreter: ManagedRuntime.make(InterpreterPoolExecutor.layer({ maxWorkers: workers })),
  process: ManagedRuntime.make(ProcessPoolExecutor.layer({ maxWorkers: workers }))
})

/** The module of the tasks Piscina runs. */
export const piscinaTasks = new URL("./fixtures/piscinaTasks.mjs", import.meta.url).href

/** Milliseconds that `f` takes. */
export const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await f()
  return performance.now() - start
}
