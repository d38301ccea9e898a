/**
 * W8: untuned map. `Executor.map` over 1,000,000 tiny items (`x => x + 1`) on an
 * InterpreterPoolExecutor of 2 workers with no options, against the same map with a
 * hand-picked `chunksize` and `buffersize`, Python's own default (`chunksize: 1`, every
 * call submitted at once), and a plain loop in the main thread. Each run is a fresh child
 * process (this very file, run as a script) that times its map and samples its resident
 * set, so one system's garbage cannot count against another.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ManagedRuntime, Stream } from "effect"
import { Executor, InterpreterPoolExecutor } from "../src/index.ts"
import { median } from "./common.ts"
import { inc } from "./fixtures/tasks.ts"
import type { Bench, Row, System, Workload } from "./run.ts"

const items = 1_000_000
const workers = 2

/** How each system maps `xs`; `undefined` options: the plain loop. */
const variants = {
  untuned: {},
  handPicked: { chunksize: 1000, buffersize: 8 },
  python: { chunksize: 1 },
  loop: undefined
} as const satisfies Record<string, Executor.MapOptions | undefined>

type Variant = keyof typeof variants

/** What a child prints: the map's milliseconds and the peak growth of its resident set in MiB. */
interface Measured {
  readonly ms: number
  readonly rssMib: number
}

// ---------------------------------------------------------------------------
// The child: `node --expose-gc w8.ts <variant>`
// ---------------------------------------------------------------------------

const measure = async (variant: Variant): Promise<Measured> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("W8's child needs --expose-gc")
  const options = variants[variant]
  const xs = Array.from({ length: items }, (_, i) => i)
  const runtime = ManagedRuntime.make(InterpreterPoolExecutor.layer({ maxWorkers: workers }))
  const count = (n: number): Promise<number> => {
    if (options === undefined) {
      const out: Array<number> = []
      for (let i = 0; i < n; i++) out.push(xs[i]! + 1)
      return Promise.resolve(out.length)
    }
    return runtime.runPromise(Executor.map(inc, n === items ? xs : xs.slice(0, n), options).pipe(Stream.runCount))
  }
  try {
    // Workers started and warm, garbage collected: the run then counts only the map.
    await count(10_000)
    gc()
    const base = process.memoryUsage.rss()
    let peak = base
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss())
    }, 2)
    const start = performance.now()
    const n = await count(items)
    const ms = performance.now() - start
    clearInterval(sampler)
    if (n !== items) throw new Error(`W8: ${n} results of ${items}`)
    peak = Math.max(peak, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024)
    return { ms, rssMib: (peak - base) / (1 << 20) }
  } finally {
    await runtime.dispose()
  }
}

if (import.meta.main) {
  const variant = process.argv[2]
  if (variant === undefined || !(variant in variants)) {
    throw new Error(`usage: w8.ts ${Object.keys(variants).join("|")}`)
  }
  measure(variant as Variant).then(
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

const inChild = (variant: Variant): Promise<Measured> =>
  new Promise((resolve, reject) =>
    execFile(process.execPath, ["--expose-gc", script, variant], { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`W8 child ${variant}: ${error.message}\n${stderr}`))
      const last = stdout.trim().split("\n").pop()!
      return resolve(JSON.parse(last) as Measured)
    })
  )

const system = (name: string, variant: Variant, note: string, ours: boolean): System => {
  const rss: Array<number> = []
  return {
    name,
    get note() {
      return rss.length === 0 ? note : `${note} Median peak RSS growth ${median(rss).toFixed(0)} MiB.`
    },
    selfTimed: true,
    warmsItself: true,
    ours,
    run: async () => {
      const report = await inChild(variant)
      rss.push(report.rssMib)
      return report.ms
    }
  }
}

const handPicked = "InterpreterPoolExecutor map, chunksize 1000, buffersize 8"

export const W8: Workload = {
  id: "W8",
  title: "untuned map over 1,000,000 tiny items",
  description:
    `\`Executor.map(inc, xs).pipe(Stream.runCount)\` over an array of ${items.toLocaleString("en-US")} numbers on ` +
    `\`InterpreterPoolExecutor.layer({ maxWorkers: ${workers} })\` with no options: \`map\` picks the chunks and how ` +
    "many are in flight. Against the same map with a hand-picked `chunksize` and `buffersize` (the baseline), with " +
    "Python's default (`chunksize: 1`, every call submitted when the stream starts), and a plain loop in the main " +
    "thread. Every run is a fresh `node --expose-gc` child that warms its pool with a map of 10,000 items, then " +
    "times the map and samples its resident set every 2 ms (checked against the kernel's `maxRSS`), over the RSS " +
    "after a full GC; the harness's warm-up rounds are skipped.",
  target: "no options: cost ratio ≤ 1.3 to the hand-picked map, peak RSS growth < 128 MiB.",
  run: (bench: Bench): Promise<Array<Row>> =>
    bench.compare({
      workload: "W8",
      tasks: items,
      baseline: handPicked,
      warmup: 0,
      systems: [
        system(
          "InterpreterPoolExecutor map, no options",
          "untuned",
          "`Executor.map(inc, xs)`: chunks start at one call and grow while they come back fast; 4 chunks per worker in flight.",
          true
        ),
        system(handPicked, "handPicked", "`Executor.map(inc, xs, { chunksize: 1000, buffersize: 8 })`.", false),
        system(
          "InterpreterPoolExecutor map, chunksize 1 (Python's default)",
          "python",
          "`Executor.map(inc, xs, { chunksize: 1 })`: one message and one future per call, all submitted at once.",
          false
        ),
        system("Plain loop (reference)", "loop", "`for (const x of xs) out.push(x + 1)` in the main thread.", false)
      ]
    })
}
