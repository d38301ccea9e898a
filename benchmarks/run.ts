/**
 * The benchmark runner: `npm run bench` runs every workload, `npm run bench -- W2`
 * only the named ones. Each workload lives in its own file (`w1.ts` … `w6.ts`)
 * and exports a `Workload`; add it to `workloads` below.
 *
 * Method, the same for every workload:
 * - every system runs `warmup` times first, untimed;
 * - then `runs` rounds, each running every system once in turn (A B C, A B C, …),
 *   so a noisy moment on the machine hits all systems alike;
 * - each cell reports the median with min–max, and the cost ratio to the
 *   baseline system: per round, our time over the baseline's time in that same
 *   round, then the median of those ratios (1.00 = same cost per task, 2.00 =
 *   twice as slow).
 *
 * Results are merged into `benchmarks/results.json` (by workload id, so running
 * one workload keeps the others) and `benchmarks/RESULTS.md` is regenerated from it.
 *
 * Environment: `BENCH_RUNS` (rounds, default 7, at least 5), `BENCH_WARMUP`
 * (default 2). Running node with `--expose-gc` collects garbage between runs.
 */
import { readFileSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { W1 } from "./w1.ts"
import { W2 } from "./w2.ts"

// ---------------------------------------------------------------------------
// What a workload module provides
// ---------------------------------------------------------------------------

/** One contender in a workload: runs the whole workload once per call. */
export interface System {
  readonly name: string
  /** Shown under the table, e.g. how the system was called. */
  readonly note?: string | undefined
  /** Runs the workload once; timed by the harness (wall clock around the call) unless `selfTimed`. */
  readonly run: () => Promise<unknown>
  /**
   * The system times itself and `run` resolves to the elapsed milliseconds,
   * e.g. an external process whose start-up is not part of the work.
   */
  readonly selfTimed?: boolean | undefined
}

/** One table row: a system's figures on one workload. */
export interface Row {
  readonly workload: string
  readonly system: string
  readonly note?: string | undefined
  /** Set when the system could not run here (e.g. `python3` missing); no figures then. */
  readonly skipped?: string | undefined
  readonly tasks: number
  /** Tasks per second of every timed run, in run order. */
  readonly tasksPerSecond: ReadonlyArray<number>
  readonly median: number
  readonly min: number
  readonly max: number
  /** Median over rounds of (this system's time / the baseline's time in the same round). */
  readonly costRatio: number
}

/** What the runner lends a workload. */
export interface Bench {
  readonly runs: number
  readonly warmup: number
  /** Warms up, runs the systems interleaved, and gives one row per system. */
  readonly compare: (options: {
    readonly workload: string
    readonly tasks: number
    /** The system the cost ratio is taken against. */
    readonly baseline: string
    readonly systems: ReadonlyArray<System>
  }) => Promise<Array<Row>>
  /** Progress lines, on stderr so they stay out of piped output. */
  readonly log: (line: string) => void
}

/** A workload module's export. */
export interface Workload {
  readonly id: string
  readonly title: string
  /** What is measured and how, a few sentences for RESULTS.md. */
  readonly description: string
  readonly run: (bench: Bench) => Promise<Array<Row>>
}

/** Every workload, in report order. */
const workloads: ReadonlyArray<Workload> = [W1, W2]

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const collectGarbage: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {})

const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const timeOnce = async (system: System): Promise<number> => {
  collectGarbage()
  const start = performance.now()
  const reported = await system.run()
  const wall = performance.now() - start
  if (system.selfTimed !== true) return wall
  if (typeof reported !== "number") throw new Error(`${system.name}: a selfTimed run must resolve to milliseconds`)
  return reported
}

const makeBench = (runs: number, warmup: number): Bench => ({
  runs,
  warmup,
  log,
  compare: async ({ workload, tasks, baseline, systems }) => {
    if (!systems.some((s) => s.name === baseline)) throw new Error(`${workload}: no baseline system "${baseline}"`)
    for (let i = 0; i < warmup; i++) {
      for (const system of systems) await timeOnce(system)
    }
    log(`${workload}: warmed up (${warmup}x each), ${runs} rounds of ${systems.map((s) => s.name).join(" / ")}`)
    const times = new Map(systems.map((s) => [s.name, [] as Array<number>]))
    for (let round = 0; round < runs; round++) {
      const line: Array<string> = []
      for (const system of systems) {
        const ms = await timeOnce(system)
        times.get(system.name)!.push(ms)
        line.push(`${system.name} ${ms.toFixed(0)} ms`)
      }
      log(`  round ${round + 1}: ${line.join(", ")}`)
    }
    const base = times.get(baseline)!
    return systems.map((system): Row => {
      const ms = times.get(system.name)!
      const rates = ms.map((t) => tasks / (t / 1000))
      return {
        workload,
        system: system.name,
        note: system.note,
        tasks,
        tasksPerSecond: rates.map(Math.round),
        median: Math.round(median(rates)),
        min: Math.round(Math.min(...rates)),
        max: Math.round(Math.max(...rates)),
        costRatio: median(ms.map((t, i) => t / base[i]!))
      }
    })
  }
})

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

interface WorkloadResult {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly command: string
  readonly date: string
  readonly environment: Record<string, string | number>
  readonly rows: ReadonlyArray<Row>
}

interface Results {
  readonly workloads: ReadonlyArray<WorkloadResult>
}

const resultsJson = fileURLToPath(new URL("./results.json", import.meta.url))
const resultsMd = fileURLToPath(new URL("./RESULTS.md", import.meta.url))

const readResults = (): Results | undefined => {
  try {
    return JSON.parse(readFileSync(resultsJson, "utf8")) as Results
  } catch {
    return undefined
  }
}

const environment = (runs: number, warmup: number): Record<string, string | number> => {
  const pkg = (name: string): string => {
    try {
      const url = new URL(`../node_modules/${name}/package.json`, import.meta.url)
      return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version
    } catch {
      return "?"
    }
  }
  return {
    node: process.version,
    effect: pkg("effect"),
    platform: `${Os.platform()} ${Os.arch()}`,
    cpu: Os.cpus()[0]?.model ?? "?",
    cpus: Os.availableParallelism(),
    loadAverage: Number(Os.loadavg()[0]!.toFixed(2)),
    runs,
    warmup
  }
}

const fmtRate = (n: number): string => n.toLocaleString("en-US")

const markdown = (results: Results): string => {
  const out: Array<string> = [
    "# Benchmark results",
    "",
    "Generated by `benchmarks/run.ts` (`npm run bench`, or `npm run bench -- W2` for one workload);",
    "do not edit by hand. Raw figures, every run included: `results.json`.",
    "",
    "Method: every system is warmed up first, then the systems run interleaved (A B C, A B C, …) for",
    "several rounds. Figures are the median tasks/s with the min–max over those rounds. *Cost ratio* is",
    "the median over rounds of (system's time / baseline's time in the same round): 1.00 is the same",
    "cost per task as the baseline, 2.00 twice the cost.",
    ""
  ]
  for (const w of results.workloads) {
    const env = w.environment
    out.push(`## ${w.id}: ${w.title}`, "", w.description, "")
    out.push(
      `Command: \`${w.command}\`, ${w.date.slice(0, 16).replace("T", " ")} UTC, ${env.runs} rounds after ${env.warmup} warm-ups.`
    )
    out.push(
      `Machine: ${env.cpu} (${env.cpus} CPUs, 1-minute load average ${env.loadAverage} at the start), ${env.platform}; Node ${env.node}, effect ${env.effect}.`,
      ""
    )
    out.push("| System | Median tasks/s | Min – max tasks/s | µs per task | Cost ratio |")
    out.push("|---|---:|---:|---:|---:|")
    for (const r of w.rows) {
      if (r.skipped !== undefined) {
        out.push(`| ${r.system} | — | — | — | skipped: ${r.skipped} |`)
        continue
      }
      out.push(
        `| ${r.system} | ${fmtRate(r.median)} | ${fmtRate(r.min)} – ${fmtRate(r.max)} | ${(1e6 / r.median).toFixed(2)} | ${r.costRatio.toFixed(2)} |`
      )
    }
    const notes = w.rows.filter((r) => r.note !== undefined)
    if (notes.length > 0) {
      out.push("")
      for (const r of notes) out.push(`- **${r.system}**: ${r.note}`)
    }
    out.push("")
  }
  return out.join("\n")
}

const printTable = (w: WorkloadResult): void => {
  const lines = w.rows.map((r) =>
    r.skipped !== undefined
      ? `  ${r.system.padEnd(40)} skipped: ${r.skipped}`
      : `  ${r.system.padEnd(40)} ${fmtRate(r.median).padStart(11)} tasks/s  (${fmtRate(r.min)} – ${fmtRate(r.max)})  cost x${r.costRatio.toFixed(2)}`
  )
  console.log(`\n${w.id}: ${w.title}\n${lines.join("\n")}`)
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

const envInt = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name]
  const n = raw === undefined ? fallback : Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`)
  return n
}

const main = async (): Promise<void> => {
  const runs = envInt("BENCH_RUNS", 7, 5)
  const warmup = envInt("BENCH_WARMUP", 2, 1)
  const wanted = process.argv.slice(2).map((a) => a.toUpperCase())
  const unknown = wanted.filter((id) => !workloads.some((w) => w.id === id))
  if (unknown.length > 0) {
    throw new Error(`unknown workload ${unknown.join(", ")}; known: ${workloads.map((w) => w.id).join(", ")}`)
  }
  const selected = wanted.length === 0 ? workloads : workloads.filter((w) => wanted.includes(w.id))
  const command = `npm run bench${wanted.length === 0 ? "" : ` -- ${wanted.join(" ")}`}`
  const bench = makeBench(runs, warmup)
  const fresh: Array<WorkloadResult> = []
  for (const w of selected) {
    log(`${w.id}: ${w.title}`)
    const env = environment(runs, warmup)
    const rows = await w.run(bench)
    const result: WorkloadResult = {
      id: w.id,
      title: w.title,
      description: w.description,
      command,
      date: new Date().toISOString(),
      environment: env,
      rows
    }
    printTable(result)
    fresh.push(result)
  }
  const previous = readResults()?.workloads ?? []
  const merged = [...previous.filter((p) => !fresh.some((f) => f.id === p.id)), ...fresh].sort(
    (a, b) => workloads.findIndex((w) => w.id === a.id) - workloads.findIndex((w) => w.id === b.id)
  )
  const results: Results = { workloads: merged }
  writeFileSync(resultsJson, `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(resultsMd, markdown(results))
  log(`\nwrote ${resultsJson} and ${resultsMd}`)
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
