/**
 * W6: memory under a long map. `Executor.map` over 1,000,000 items of a lazy
 * iterable with `buffersize` 64 on each pool: the peak growth of the resident
 * set while it runs. Each run is a fresh child process (this very file, run as
 * a script), so one system's garbage cannot count against another.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { type Layer, ManagedRuntime, Stream } from "effect"
import { Piscina } from "piscina"
import { Executor, InterpreterPoolExecutor, ProcessPoolExecutor, ThreadPoolExecutor } from "../src/index.ts"
import { median, pythonSystem, pythonVersion, Units } from "./common.ts"
import { inc } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const items = 1_000_000
const buffersize = 64
const workers = 2
/** How often the child samples its resident set. */
const sampleMillis = 2

/** What a child measures: `count(n)` maps over `range(n)` and gives the number of results. */
interface Mapper {
  readonly count: (n: number, size: number | undefined) => Promise<number>
  readonly close: () => Promise<void>
}

const ours = (layer: () => Layer.Layer<Executor.Executor, unknown>) => (): Mapper => {
  const runtime = ManagedRuntime.make(layer())
  return {
    count: (n, size) =>
      runtime.runPromise(
        Executor.map(inc, range(n), size === undefined ? { chunksize: 1 } : { buffersize: size }).pipe(Stream.runCount)
      ),
    close: () => runtime.dispose()
  }
}

/** Piscina has no `map`: `size` loops share the iterator, each awaiting its call before taking the next item. */
const piscinaMapper = (): Mapper => {
  const pool = new Piscina({
    filename: new URL("./fixtures/piscinaInc.mjs", import.meta.url).href,
    minThreads: workers,
    maxThreads: workers
  })
  return {
    count: async (n, size = buffersize) => {
      const items = range(n)
      let results = 0
      const lane = async (): Promise<void> => {
        for (let next = items.next(); next.done !== true; next = items.next()) {
          await pool.run(next.value)
          results++
        }
      }
      await Promise.all(Array.from({ length: size }, lane))
      return results
    },
    close: () => pool.destroy()
  }
}

const pools = {
  thread: ours(() => ThreadPoolExecutor.layer({ maxWorkers: workers })),
  interpreter: ours(() => InterpreterPoolExecutor.layer({ maxWorkers: workers })),
  process: ours(() => ProcessPoolExecutor.layer({ maxWorkers: workers })),
  piscina: piscinaMapper
} as const

type PoolName = keyof typeof pools

/** What a child prints: the peak RSS growth in MiB, the map's milliseconds, the pool's start-up. */
interface ChildReport {
  readonly value: number
  readonly ms: number
  readonly startupMs: number
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i
}

// ---------------------------------------------------------------------------
// The child: `node --expose-gc w6.ts <pool> <buffersize | "none">`
// ---------------------------------------------------------------------------

const child = async (pool: PoolName, size: number | undefined): Promise<ChildReport> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("W6's child needs --expose-gc")
  const mapper = pools[pool]()
  const count = async (n: number): Promise<void> => {
    const k = await mapper.count(n, size)
    if (k !== n) throw new Error(`W6: ${k} results of ${n}`)
  }
  try {
    let start = performance.now()
    await count(workers)
    const startupMs = performance.now() - start
    await count(10_000)
    gc()
    await new Promise((resolve) => setTimeout(resolve, 50))
    gc()
    const base = process.memoryUsage.rss()
    const peakBefore = process.resourceUsage().maxRSS * 1024
    let peak = base
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss())
    }, sampleMillis)
    start = performance.now()
    await count(items)
    const ms = performance.now() - start
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage.rss())
    // maxRSS is the true peak of the process: if it rose during the run, the run made it.
    const peakAfter = process.resourceUsage().maxRSS * 1024
    if (peakAfter > peakBefore) peak = Math.max(peak, peakAfter)
    return { value: (peak - base) / (1 << 20), ms, startupMs }
  } finally {
    await mapper.close()
  }
}

if (import.meta.main) {
  const [pool, size] = process.argv.slice(2)
  if (pool === undefined || !(pool in pools))
    throw new Error(`usage: w6.ts ${Object.keys(pools).join("|")} [size|none]`)
  child(pool as PoolName, size === "none" ? undefined : Number(size ?? buffersize)).then(
    (report) => console.log(JSON.stringify(report)),
    (error) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}

// ---------------------------------------------------------------------------
// The workload: one child per system per round
// ---------------------------------------------------------------------------

const script = fileURLToPath(import.meta.url)

const runChild = (pool: PoolName, size: number | undefined): Promise<ChildReport> =>
  new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ["--expose-gc", script, pool, size === undefined ? "none" : String(size)],
      { encoding: "utf8", maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error !== null) return reject(new Error(`W6 child ${pool}: ${error.message}\n${stderr}`))
        const lines = stdout.trim().split("\n")
        return resolve(JSON.parse(lines[lines.length - 1]!) as ChildReport)
      }
    )
  )

const childSystem = (options: {
  readonly name: string
  readonly pool: PoolName
  readonly size: number | undefined
  readonly note: string
  readonly ours: boolean
  readonly vs: ReadonlyArray<string>
}): System => {
  const times: Array<number> = []
  const startups: Array<number> = []
  return {
    name: options.name,
    get note() {
      const rate =
        times.length === 0
          ? ""
          : ` Median ${Math.round(items / (median(times) / 1000)).toLocaleString("en-US")} items/s.`
      return `${options.note}${rate}`
    },
    selfMeasured: true,
    warmsItself: true,
    ours: options.ours,
    vs: options.vs,
    run: async () => {
      const report = await runChild(options.pool, options.size)
      times.push(report.ms)
      startups.push(report.startupMs)
      return report.value
    },
    startupMs: () => (startups.length === 0 ? undefined : median(startups))
  }
}

export const W6: Workload = {
  id: "W6",
  title: "map over 1,000,000 items with buffersize 64",
  description:
    `\`Executor.map(inc, range(${items.toLocaleString("en-US")}), { buffersize: ${buffersize} }).pipe(Stream.runCount)\`, ` +
    `\`range\` a generator, on pools of ${workers} workers. Figure: the peak growth of the resident set of the process ` +
    `running \`map\` (worker threads included; the process pool's children not), sampled every ${sampleMillis} ms and ` +
    "checked against the kernel's peak (`maxRSS`), over the RSS after a warm-up map of 10,000 items and a full GC. " +
    "Every run is a fresh `node --expose-gc` child, so one system's garbage cannot count against another; the harness's " +
    "warm-up rounds are skipped. A control without `buffersize` shows what the bound saves; Piscina with the same " +
    "64 calls in flight shows what a Node worker pool's messages alone cost.",
  target: "peak RSS growth < 64 MiB.",
  run: async (bench: Bench): Promise<Array<Row>> => {
    const python = pythonVersion()
    const [major, minor] = "version" in python ? python.version.split(".").map(Number) : [0, 0]
    const pythonName = `Python ${"version" in python ? `${python.version} ` : ""}ThreadPoolExecutor.map, buffersize ${buffersize}`
    const pythonNote =
      `\`for _ in ThreadPoolExecutor(max_workers=${workers}).map(inc, iter(range(${items})), buffersize=${buffersize})\`, ` +
      `RSS sampled every ${sampleMillis} ms by a thread; a fresh \`python3\` per round.`
    const pythonMissing =
      "missing" in python
        ? python.missing
        : major! > 3 || (major === 3 && minor! >= 14)
          ? undefined
          : `not available: \`Executor.map\`'s \`buffersize\` is new in Python 3.14, this is ${python.version}`
    if (pythonMissing !== undefined) bench.log(`W6: skipping the Python peer: ${pythonMissing}`)
    const vs = pythonMissing === undefined ? [pythonName] : []
    const workerVs = ["Piscina, 64 calls in flight (reference)", ...vs]
    const systems: Array<System> = [
      ...(pythonMissing === undefined
        ? [
            pythonSystem({
              name: pythonName,
              note: pythonNote,
              args: ["rss", String(items), String(workers), String(buffersize)],
              reports: "figure"
            })
          ]
        : []),
      childSystem({
        name: "ThreadPoolExecutor",
        pool: "thread",
        size: buffersize,
        note: `\`ThreadPoolExecutor.layer({ maxWorkers: ${workers} })\`.`,
        ours: true,
        vs
      }),
      childSystem({
        name: "InterpreterPoolExecutor",
        pool: "interpreter",
        size: buffersize,
        note: `\`InterpreterPoolExecutor.layer({ maxWorkers: ${workers} })\`.`,
        ours: true,
        vs: workerVs
      }),
      childSystem({
        name: "ProcessPoolExecutor",
        pool: "process",
        size: buffersize,
        note: `\`ProcessPoolExecutor.layer({ maxWorkers: ${workers} })\`; the parent's RSS only.`,
        ours: true,
        vs: workerVs
      }),
      childSystem({
        name: "Piscina, 64 calls in flight (reference)",
        pool: "piscina",
        size: buffersize,
        note:
          `\`new Piscina({ minThreads: ${workers}, maxThreads: ${workers} })\` has no \`map\`: ${buffersize} loops share the iterator, ` +
          "each awaiting `pool.run(x)` before taking the next item (results unordered): the same bound on a Node worker pool " +
          "without Effect.",
        ours: false,
        vs: []
      }),
      childSystem({
        name: "ThreadPoolExecutor, no buffersize (control)",
        pool: "thread",
        size: undefined,
        note:
          "The same map with `chunksize: 1` and no `buffersize`, Python's default: every call is submitted when the " +
          "stream starts, as in Python before 3.14.",
        ours: false,
        vs: []
      })
    ]
    const rows = await bench.compare({ workload: "W6", tasks: items, systems, unit: Units.rssGrowthMib, warmup: 0 })
    return pythonMissing === undefined
      ? rows
      : [bench.skipped("W6", pythonName, Units.rssGrowthMib, pythonMissing, pythonNote), ...rows]
  }
}
