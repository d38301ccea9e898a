/**
 * The benchmark runner: `npm run bench` runs every workload, `npm run bench -- W2`
 * only the named ones. Each workload lives in its own file (`w0.ts` … `w8.ts`)
 * and exports a `Workload`; add it to `workloads` below.
 *
 * Method, the same for every workload:
 * - every system runs `warmup` times first, untimed (a system that warms itself,
 *   such as a Python peer timing itself in a fresh interpreter, is not run twice
 *   for nothing);
 * - then `runs` rounds, each running every system once in turn (A B C, A B C, …),
 *   so a noisy moment on the machine hits all systems alike;
 * - each cell reports the median with min–max of the workload's figure (tasks/s,
 *   speedup, MiB/s, …);
 * - each of our systems is also compared with each peer: per round, our figure
 *   over the peer's figure in that same round, then the median of those ratios;
 * - where a workload names a baseline, the cost ratio: per round, our time over
 *   the baseline's time in that same round, then the median (1.00 = same cost
 *   per task, 2.00 = twice as slow).
 *
 * Results are merged into `benchmarks/results.json` (by workload id, so running
 * one workload keeps the others) and `benchmarks/RESULTS.md` is regenerated from it;
 * `npm run bench -- --report` only regenerates `RESULTS.md`.
 *
 * Environment: `BENCH_RUNS` (rounds, default 7, at least 5), `BENCH_WARMUP`
 * (default 2), `BENCH_COMMIT` (the commit measured, where `git describe` cannot
 * tell, e.g. in an exported tree). `npm run bench` runs node with `--expose-gc`,
 * so garbage is collected before every timed run and one system's garbage is not
 * collected during another's.
 */
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { median, type Unit, Units } from "./common.ts"
import { W0 } from "./w0.ts"
import { W1 } from "./w1.ts"
import { W1m } from "./w1m.ts"
import { W2 } from "./w2.ts"
import { W3 } from "./w3.ts"
import { W4 } from "./w4.ts"
import { W5 } from "./w5.ts"
import { W5b } from "./w5b.ts"
import { W6 } from "./w6.ts"
import { W7 } from "./w7.ts"
import { W8 } from "./w8.ts"

// ---------------------------------------------------------------------------
// What a workload module provides
// ---------------------------------------------------------------------------

/** One contender in a workload: runs the whole workload once per call. */
export interface System {
  readonly name: string
  /** Shown under the table, e.g. how the system was called. */
  readonly note?: string | undefined
  /** Runs the workload once; timed by the harness (wall clock around the call) unless `selfTimed` or `selfMeasured`. */
  readonly run: () => Promise<unknown>
  /**
   * The system times itself and `run` resolves to the elapsed milliseconds,
   * e.g. an external process whose start-up is not part of the work.
   */
  readonly selfTimed?: boolean | undefined
  /** `run` resolves to the system's figure itself, in the workload's unit (e.g. a speedup or an RSS growth). */
  readonly selfMeasured?: boolean | undefined
  /** The system warms itself up inside each run: the harness's warm-up rounds skip it. */
  readonly warmsItself?: boolean | undefined
  /** One of ours: its row carries its ratio to each peer. */
  readonly ours?: boolean | undefined
  /** For one of ours: the peers to compare it with (default: every system that is not ours). */
  readonly vs?: ReadonlyArray<string> | undefined
  /** The system's start-up in milliseconds (pool creation until its workers answered), read after the rounds. */
  readonly startupMs?: (() => number | undefined) | undefined
}

/** One table row: a system's figures on one workload. */
export interface Row {
  readonly workload: string
  readonly system: string
  readonly note?: string | undefined
  /** Set when the system could not run here (e.g. `python3` missing); no figures then. */
  readonly skipped?: string | undefined
  /** Units of work in one run (calls, round trips, …). */
  readonly tasks: number
  readonly unit: Unit
  /** The figure of every timed run, in run order. */
  readonly values: ReadonlyArray<number>
  readonly median: number
  readonly min: number
  readonly max: number
  /** Median over rounds of (this system's time / the baseline's time in the same round); with a baseline only. */
  readonly costRatio?: number | undefined
  /** Ours only: peer name → median over rounds of (our figure / the peer's figure in the same round). */
  readonly ratios?: Readonly<Record<string, number>> | undefined
  /** Start-up in milliseconds, reported apart from the timed runs. */
  readonly startupMs?: number | undefined
}

/** Per system, the raw result of every timed round: milliseconds, or the system's own figure when `selfMeasured`. */
export type Rounds = ReadonlyMap<string, ReadonlyArray<number>>

/** What the runner lends a workload. */
export interface Bench {
  readonly runs: number
  readonly warmup: number
  /** Warms up, then runs the systems interleaved; every system's raw result per round. */
  readonly rounds: (options: {
    readonly workload: string
    readonly systems: ReadonlyArray<System>
    /** Warm-up rounds, default `BENCH_WARMUP`. */
    readonly warmup?: number | undefined
  }) => Promise<Rounds>
  /** Rows from per-round figures (already in `unit`): median, min–max, ratios of ours to each peer. */
  readonly rows: (options: {
    readonly workload: string
    readonly unit: Unit
    readonly tasks: number
    readonly systems: ReadonlyArray<System>
    readonly figures: Rounds
    /** Per-round milliseconds, for the cost ratio to `baseline`. */
    readonly times?: Rounds | undefined
    readonly baseline?: string | undefined
  }) => Array<Row>
  /**
   * Warms up, runs the systems interleaved, and gives one row per system, with
   * figures made from each run's time (tasks/s unless `figure` says otherwise).
   */
  readonly compare: (options: {
    readonly workload: string
    readonly tasks: number
    /** The system the cost ratio is taken against. */
    readonly baseline?: string | undefined
    readonly systems: ReadonlyArray<System>
    readonly unit?: Unit | undefined
    /** A run's figure from its milliseconds; default tasks/s. */
    readonly figure?: ((ms: number) => number) | undefined
    readonly warmup?: number | undefined
  }) => Promise<Array<Row>>
  /** The row of a system that could not run here. */
  readonly skipped: (workload: string, system: string, unit: Unit, reason: string, note?: string) => Row
  /** Progress lines, on stderr so they stay out of piped output. */
  readonly log: (line: string) => void
}

/** A workload module's export. */
export interface Workload {
  readonly id: string
  readonly title: string
  /** What is measured and how, a few sentences for RESULTS.md. */
  readonly description: string
  /** What the targets are, one line for RESULTS.md (optional). */
  readonly target?: string | undefined
  readonly run: (bench: Bench) => Promise<Array<Row>>
}

/** Every workload, in report order. */
const workloads: ReadonlyArray<Workload> = [W0, W1, W1m, W2, W3, W4, W5, W5b, W6, W7, W8]

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

const collectGarbage: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {})

const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

const runOnce = async (system: System): Promise<number> => {
  collectGarbage()
  const start = performance.now()
  const reported = await system.run()
  const wall = performance.now() - start
  if (system.selfTimed !== true && system.selfMeasured !== true) return wall
  if (typeof reported !== "number" || !Number.isFinite(reported)) {
    throw new Error(`${system.name}: a selfTimed or selfMeasured run must resolve to a number, got ${reported}`)
  }
  return reported
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits))

/** The warm-up rounds each workload actually ran (a workload may ask for fewer than `BENCH_WARMUP`). */
const warmupsRun = new Map<string, number>()

const makeBench = (runs: number, warmup: number): Bench => {
  const rounds: Bench["rounds"] = async ({ workload, systems, warmup: warmupRounds = warmup }) => {
    warmupsRun.set(workload, warmupRounds)
    for (let i = 0; i < warmupRounds; i++) {
      for (const system of systems) if (system.warmsItself !== true) await runOnce(system)
    }
    log(`${workload}: warmed up (${warmupRounds}x each), ${runs} rounds of ${systems.map((s) => s.name).join(" / ")}`)
    const raw = new Map(systems.map((s) => [s.name, [] as Array<number>]))
    for (let r = 0; r < runs; r++) {
      const line: Array<string> = []
      for (const system of systems) {
        const x = await runOnce(system)
        raw.get(system.name)!.push(x)
        line.push(`${system.name} ${system.selfMeasured === true ? x.toFixed(2) : `${x.toFixed(0)} ms`}`)
      }
      log(`  round ${r + 1}: ${line.join(", ")}`)
    }
    return raw
  }

  const rows: Bench["rows"] = ({ workload, unit, tasks, systems, figures, times, baseline }) => {
    const figuresOf = (name: string): ReadonlyArray<number> => {
      const xs = figures.get(name)
      if (xs === undefined) throw new Error(`${workload}: no figures for ${name}`)
      return xs
    }
    const base = baseline === undefined ? undefined : times?.get(baseline)
    if (baseline !== undefined && base === undefined)
      throw new Error(`${workload}: no times for baseline "${baseline}"`)
    const digits = unit.digits + 2
    return systems.map((system): Row => {
      const xs = figuresOf(system.name)
      let ratios: Record<string, number> | undefined
      if (system.ours === true) {
        ratios = {}
        const peers = system.vs ?? systems.filter((s) => s.ours !== true).map((s) => s.name)
        for (const peer of peers) {
          const theirs = figures.get(peer)
          if (theirs === undefined) continue
          ratios[peer] = round(median(xs.map((x, i) => x / theirs[i]!)), 3)
        }
      }
      const ms = times?.get(system.name)
      const startupMs = system.startupMs?.()
      return {
        workload,
        system: system.name,
        note: system.note,
        tasks,
        unit,
        values: xs.map((x) => round(x, digits)),
        median: round(median(xs), digits),
        min: round(Math.min(...xs), digits),
        max: round(Math.max(...xs), digits),
        ...(base !== undefined && ms !== undefined
          ? { costRatio: round(median(ms.map((t, i) => t / base[i]!)), 3) }
          : {}),
        ...(ratios === undefined || Object.keys(ratios).length === 0 ? {} : { ratios }),
        ...(startupMs === undefined ? {} : { startupMs: Math.round(startupMs) })
      }
    })
  }

  return {
    runs,
    warmup,
    log,
    rounds,
    rows,
    compare: async ({ workload, tasks, baseline, systems, unit = Units.tasksPerSecond, figure, warmup: w }) => {
      if (baseline !== undefined && !systems.some((s) => s.name === baseline)) {
        throw new Error(`${workload}: no baseline system "${baseline}"`)
      }
      const toFigure = figure ?? ((ms: number) => tasks / (ms / 1000))
      const raw = await rounds({ workload, systems, warmup: w })
      const figures = new Map<string, ReadonlyArray<number>>()
      const times = new Map<string, ReadonlyArray<number>>()
      for (const system of systems) {
        const xs = raw.get(system.name)!
        figures.set(system.name, system.selfMeasured === true ? xs : xs.map(toFigure))
        if (system.selfMeasured !== true) times.set(system.name, xs)
      }
      return rows({ workload, unit, tasks, systems, figures, times, baseline })
    },
    skipped: (workload, system, unit, reason, note) => ({
      workload,
      system,
      note,
      skipped: reason,
      tasks: 0,
      unit,
      values: [],
      median: 0,
      min: 0,
      max: 0
    })
  }
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

interface WorkloadResult {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly target?: string | undefined
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

/** Rows written before figures had units were all tasks/s, with their figures in `tasksPerSecond`. */
const upgradeRow = (row: Row & { readonly tasksPerSecond?: ReadonlyArray<number> }): Row => {
  if (row.unit !== undefined) return row
  const { tasksPerSecond, ...rest } = row
  return { ...rest, unit: Units.tasksPerSecond, values: tasksPerSecond ?? [] }
}

const readResults = (): Results | undefined => {
  try {
    const results = JSON.parse(readFileSync(resultsJson, "utf8")) as Results
    return { workloads: results.workloads.map((w) => ({ ...w, rows: w.rows.map(upgradeRow) })) }
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
  const git = spawnSync("git", ["describe", "--always", "--dirty"], {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    encoding: "utf8"
  })
  const commit = process.env.BENCH_COMMIT ?? (git.status === 0 ? git.stdout.trim() : "?")
  return {
    commit,
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

const fmt = (n: number, digits: number): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

const fmtRatio = (r: number): string => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2))

const ratiosText = (r: Row): string =>
  r.ratios === undefined
    ? ""
    : Object.entries(r.ratios)
        .map(([peer, x]) => `${fmtRatio(x)}× ${peer}`)
        .join("; ")

const markdown = (results: Results): string => {
  const out: Array<string> = [
    "# Benchmark results",
    "",
    "Generated by `benchmarks/run.ts` (`npm run bench`, or `npm run bench -- W2` for one workload);",
    "do not edit by hand. Raw figures, every run included: `results.json`.",
    "",
    "Method: every system is warmed up first, then the systems run interleaved (A B C, A B C, …) for",
    "several rounds. Figures are the median with the min–max over those rounds. *Ours ÷ peer* is, for",
    "each of our systems and each peer, the median over rounds of (our figure / the peer's figure in the",
    "same round): above 1 means ours is ahead for figures where higher is better (tasks/s, MiB/s,",
    "speedup), below 1 means ours is ahead where lower is better (wall time / ideal, RSS growth). Where",
    "a table has a *cost ratio*, it is the median over rounds of (system's time / baseline's time in the",
    "same round): 1.00 is the same cost per task as the baseline, 2.00 twice the cost. *Start-up* is",
    "measured apart, never inside the timed runs.",
    ""
  ]
  for (const w of results.workloads) {
    const env = w.environment
    out.push(`## ${w.id}: ${w.title}`, "", w.description, "")
    if (w.target !== undefined) out.push(`Target: ${w.target}`, "")
    out.push(
      `Command: \`${w.command}\`, ${w.date.slice(0, 16).replace("T", " ")} UTC, ${env.runs} rounds after ${env.warmup} warm-up${env.warmup === 1 ? "" : "s"}.`
    )
    out.push(
      `Machine: ${env.cpu} (${env.cpus} CPUs, 1-minute load average ${env.loadAverage} at the start), ${env.platform}; Node ${env.node}, effect ${env.effect}${env.commit === undefined ? "" : `; commit ${env.commit}`}.`,
      ""
    )
    const unit = w.rows[0]!.unit
    const better = unit.better === "higher" ? "higher is better" : "lower is better"
    const columns: Array<{ readonly title: string; readonly right: boolean; readonly cell: (r: Row) => string }> = [
      { title: "System", right: false, cell: (r) => r.system },
      { title: `Median ${unit.name} (${better})`, right: true, cell: (r) => fmt(r.median, unit.digits) },
      { title: "Min – max", right: true, cell: (r) => `${fmt(r.min, unit.digits)} – ${fmt(r.max, unit.digits)}` }
    ]
    if (unit.name === Units.tasksPerSecond.name) {
      columns.push({ title: "µs per task", right: true, cell: (r) => (1e6 / r.median).toFixed(2) })
    }
    if (w.rows.some((r) => r.costRatio !== undefined)) {
      columns.push({ title: "Cost ratio", right: true, cell: (r) => r.costRatio?.toFixed(2) ?? "" })
    }
    if (w.rows.some((r) => r.ratios !== undefined)) {
      columns.push({ title: `Ours ÷ peer (${better})`, right: false, cell: ratiosText })
    }
    if (w.rows.some((r) => r.startupMs !== undefined)) {
      columns.push({ title: "Start-up ms", right: true, cell: (r) => r.startupMs?.toString() ?? "" })
    }
    out.push(`| ${columns.map((c) => c.title).join(" | ")} |`)
    out.push(`|${columns.map((c) => (c.right ? "---:" : "---")).join("|")}|`)
    for (const r of w.rows) {
      const cells =
        r.skipped === undefined
          ? columns.map((c) => c.cell(r))
          : [r.system, ...columns.slice(2).map(() => "—"), `skipped: ${r.skipped}`]
      out.push(`| ${cells.join(" | ")} |`)
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
  const lines = w.rows.map((r) => {
    if (r.skipped !== undefined) return `  ${r.system.padEnd(44)} skipped: ${r.skipped}`
    const d = r.unit.digits
    const cost = r.costRatio === undefined ? "" : `  cost x${r.costRatio.toFixed(2)}`
    const vs = r.ratios === undefined ? "" : `  ${ratiosText(r)}`
    return `  ${r.system.padEnd(44)} ${fmt(r.median, d).padStart(11)} ${r.unit.name}  (${fmt(r.min, d)} – ${fmt(r.max, d)})${cost}${vs}`
  })
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
  if (process.argv.includes("--report")) {
    // Only rewrites RESULTS.md from results.json, e.g. after a change to the report's layout.
    const results = readResults()
    if (results === undefined) throw new Error(`cannot read ${resultsJson}`)
    writeFileSync(resultsMd, markdown(results))
    log(`wrote ${resultsMd}`)
    return
  }
  const runs = envInt("BENCH_RUNS", 7, 5)
  const warmup = envInt("BENCH_WARMUP", 2, 1)
  const known = new Map(workloads.map((w) => [w.id.toUpperCase(), w]))
  const wanted = process.argv.slice(2).map((a) => a.toUpperCase())
  const unknown = wanted.filter((id) => !known.has(id))
  if (unknown.length > 0) {
    throw new Error(`unknown workload ${unknown.join(", ")}; known: ${workloads.map((w) => w.id).join(", ")}`)
  }
  const selected = wanted.length === 0 ? workloads : workloads.filter((w) => wanted.includes(w.id.toUpperCase()))
  const command = `npm run bench${wanted.length === 0 ? "" : ` -- ${selected.map((w) => w.id).join(" ")}`}`
  const bench = makeBench(runs, warmup)
  const fresh: Array<WorkloadResult> = []
  for (const w of selected) {
    log(`${w.id}: ${w.title}`)
    const env = environment(runs, warmup)
    const rows = await w.run(bench)
    env.warmup = warmupsRun.get(w.id) ?? warmup
    const result: WorkloadResult = {
      id: w.id,
      title: w.title,
      description: w.description,
      ...(w.target === undefined ? {} : { target: w.target }),
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
