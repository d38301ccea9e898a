/**
 * The soak: many tiny tasks through each pool, `submit` by `submit`, then
 * `Executor.map` with `buffersize` over an endless iterable, stopped after
 * as many results. Memory is sampled (after a forced GC) as it goes; after a
 * warm-up (the first half of each phase) neither the JS heap in use nor the
 * RSS outside V8's heap may grow by 32 MB (the raw RSS is reported as well;
 * see `Sampler` for why it is not what is judged). Once each pool's scope has
 * closed, no handle it opened (timers, ports, pipes, child processes) may
 * remain and no worker process may be left.
 *
 * `npm run soak` runs the full soak (1,000,000 tasks and 1,000,000 mapped
 * results per pool) and prints the figures; `soak.test.ts` runs the same code
 * in CI with a time budget of about 10 seconds. Environment for the script:
 * `SOAK_TASKS`, `SOAK_MAPPED`, `SOAK_POOLS` (e.g. `ThreadPool,ProcessPool`),
 * `SOAK_VERBOSE=1` (print every sample).
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect, Exit, Scope, Stream } from "effect"
import {
  type Executor,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  ThreadPoolExecutor
} from "../../src/index.ts"
import { poolOf } from "../../src/internal/workerPool/executor.ts"
import { inc } from "./soakTasks.ts"

/** The pools the soak runs through. */
export type PoolName = "ThreadPool" | "InterpreterPool" | "ProcessPool"

export const allPools: ReadonlyArray<PoolName> = ["ThreadPool", "InterpreterPool", "ProcessPool"]

/** Options of `soak`. */
export interface SoakOptions {
  readonly pools?: ReadonlyArray<PoolName> | undefined
  /** Tiny tasks submitted through each pool. */
  readonly tasks: number
  /** Results taken from `map` over an endless iterable, on each pool. */
  readonly mapped: number
  /** Ends each phase early after this many milliseconds (the CI variant). */
  readonly phaseMillis?: number | undefined
  /** Workers per pool (default 2). */
  readonly maxWorkers?: number | undefined
  /** Futures in flight at once in the submit phase (default 10,000). */
  readonly window?: number | undefined
  /** `map`'s `buffersize` (default 1,000). */
  readonly buffersize?: number | undefined
  /**
   * The share of each phase (of its work, or of its time budget) that is warm-up, not measured
   * (default 0.5): the RSS of a process running worker threads climbs for the first few hundred
   * thousand tasks (allocator arenas, JIT code, the workers' heaps settling), then stays flat.
   */
  readonly warmup?: number | undefined
  /** Heap growth allowed after the warm-up, in MB (default 32). */
  readonly limitMB?: number | undefined
  /** Growth of the RSS outside V8's heap allowed after the warm-up, in MB (default `limitMB`). */
  readonly rssLimitMB?: number | undefined
  /** Where progress lines go (default nowhere). */
  readonly log?: ((line: string) => void) | undefined
}

/** The figures of one phase on one pool. */
export interface PhaseReport {
  readonly pool: PoolName
  readonly phase: "submit" | "map"
  /** Tasks run, or results taken. */
  readonly count: number
  readonly millis: number
  /** Heap and RSS after the warm-up, in MB. */
  readonly heapBaseMB: number
  readonly rssBaseMB: number
  /** The largest growth over the warm-up figure seen at any later sample, in MB: heap in use, RSS, RSS outside V8's heap. */
  readonly heapGrowthMB: number
  readonly rssGrowthMB: number
  readonly nativeGrowthMB: number
  /** Growth at the last sample, in MB. */
  readonly heapEndGrowthMB: number
  readonly rssEndGrowthMB: number
  readonly samples: number
  /** Every sample: work done, heap in use MB, RSS MB, V8 heap size MB. */
  readonly trace: ReadonlyArray<readonly [number, number, number, number]>
  /** Results that were not `input + 1`. */
  readonly wrong: number
}

/** What each pool left behind once its scope closed. */
export interface PoolReport {
  readonly pool: PoolName
  readonly phases: ReadonlyArray<PhaseReport>
  /** Active resources (`process.getActiveResourcesInfo()`) beyond those before the pool, by type. */
  readonly leftoverResources: ReadonlyArray<string>
  /** Child processes of this process still running after the scope closed. */
  readonly leftoverChildren: ReadonlyArray<number>
  /** Child processes seen while the pool ran (shows the child check works). */
  readonly childrenSeen: number
  /** Milliseconds the scope took to close. */
  readonly closeMillis: number
}

/** The whole soak, and every problem found: empty when it passed. */
export interface SoakReport {
  readonly pools: ReadonlyArray<PoolReport>
  readonly limitMB: number
  readonly rssLimitMB: number
  readonly problems: ReadonlyArray<string>
}

/** A full GC, through V8's `gc` exposed at run time (no `--expose-gc` needed); set up on first use. */
let fullGc: (() => void) | undefined
const gc = (): void => {
  if (fullGc === undefined) {
    try {
      setFlagsFromString("--expose-gc")
      fullGc = runInNewContext("gc") as () => void
    } catch {
      fullGc = () => {}
    }
  }
  fullGc()
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10

/** Child processes of this process that are not zombies, from `/proc`; empty where there is none. */
export const childProcesses = (): Array<number> => {
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return []
  }
  const children: Array<number> = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (Number(fields[1]) === process.pid && fields[0] !== "Z") children.push(Number(entry))
    } catch {
      // Gone while we looked.
    }
  }
  return children
}

const countByType = (types: ReadonlyArray<string>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1)
  return counts
}

/**
 * The active resources by type, read in an Immediate of its own: inside a timer's callback (where a
 * fiber resumed by `Effect.sleep` runs) that timer still counts as active.
 */
const activeResources: Effect.Effect<Map<string, number>> = Effect.callback((resume) => {
  setImmediate(() => resume(Effect.succeed(countByType(process.getActiveResourcesInfo()))))
})

/** Resources active now beyond `before`, e.g. `["MessagePort x2"]`. */
const resourcesBeyond = (before: Map<string, number>): Effect.Effect<Array<string>> =>
  Effect.map(activeResources, (now) => {
    const out: Array<string> = []
    for (const [type, n] of now) {
      const extra = n - (before.get(type) ?? 0)
      if (extra > 0) out.push(`${type} x${extra}`)
    }
    return out
  })

interface Memory {
  /** The JS heap in use after a full GC. */
  readonly heap: number
  readonly rss: number
  /** The RSS outside V8's heap (`rss - heapTotal`): native memory, buffers, worker threads. */
  readonly native: number
}

/**
 * Samples memory after a GC; the first sample at or past the warm-up is the base. What is judged is
 * the heap in use and the RSS outside V8's heap: V8 resizes its heap by its own rules (its young
 * generation can double in one step, well into a run, and the RSS follows) without holding more data,
 * while a leak shows in the heap in use, or, for native memory, outside the heap. The raw RSS is
 * reported too.
 */
class Sampler {
  private base: Memory | undefined
  private readonly max = { heap: 0, rss: 0, native: 0 }
  private last: Memory = { heap: 0, rss: 0, native: 0 }
  samples = 0
  /** Every sample: work done, heap in use MB, RSS MB, V8 heap size MB. */
  readonly trace: Array<readonly [number, number, number, number]> = []

  sample(done: number): void {
    gc()
    const { heapUsed, heapTotal, rss } = process.memoryUsage()
    this.samples++
    this.trace.push([done, mb(heapUsed), mb(rss), mb(heapTotal)])
    this.last = { heap: heapUsed, rss, native: rss - heapTotal }
    if (this.base === undefined) {
      this.base = this.last
      return
    }
    this.max.heap = Math.max(this.max.heap, heapUsed - this.base.heap)
    this.max.rss = Math.max(this.max.rss, rss - this.base.rss)
    this.max.native = Math.max(this.max.native, this.last.native - this.base.native)
  }

  get warm(): boolean {
    return this.base !== undefined
  }

  figures() {
    const base = this.base ?? this.last
    return {
      heapBaseMB: mb(base.heap),
      rssBaseMB: mb(base.rss),
      heapGrowthMB: mb(this.max.heap),
      rssGrowthMB: mb(this.max.rss),
      nativeGrowthMB: mb(this.max.native),
      heapEndGrowthMB: mb(this.last.heap - base.heap),
      rssEndGrowthMB: mb(this.last.rss - base.rss),
      samples: this.samples,
      trace: this.trace
    }
  }
}

/**
 * Drives the sampler: the base once the warm-up is over (the first `warmup` share of the work, or of
 * the time budget), then a sample every 1/40 of the work.
 */
const progress = (target: number, phaseMillis: number | undefined, warmup: number) => {
  const started = Date.now()
  const deadline = phaseMillis === undefined ? Number.POSITIVE_INFINITY : started + phaseMillis
  const sampler = new Sampler()
  const every = Math.max(1_000, Math.floor(target / 40))
  let next = Math.max(1, Math.floor(target * warmup))
  const warmUntil = phaseMillis === undefined ? Number.POSITIVE_INFINITY : started + phaseMillis * warmup
  return {
    sampler,
    started,
    /** Call with the work done so far; returns false once the time budget is spent. */
    at: (done: number): boolean => {
      const now = Date.now()
      if (!sampler.warm && (done >= next || now >= warmUntil)) {
        sampler.sample(done)
        next = done + every
      } else if (sampler.warm && done >= next) {
        sampler.sample(done)
        next = done + every
      }
      return now < deadline
    }
  }
}

const makePool = (pool: PoolName, maxWorkers: number) => {
  switch (pool) {
    case "ThreadPool":
      return ThreadPoolExecutor.make({ maxWorkers })
    case "InterpreterPool":
      return InterpreterPoolExecutor.make({ maxWorkers })
    case "ProcessPool":
      return ProcessPoolExecutor.make({ maxWorkers })
  }
}

function* naturals(): Generator<number> {
  for (let n = 0; ; n++) yield n
}

/** What a worker pool holds, read from its internals, for a hang's message. */
const poolInternals = (executor: Executor.Service): string => {
  const pool = poolOf(executor) as Record<string, any> | undefined
  if (pool === undefined) return "no worker pool internals"
  try {
    const workers = [...(pool.workers ?? [])].map((w: any) => ({
      items: w.items?.size,
      sent: w.sent,
      retiring: w.retiring,
      stopping: w.stopping
    }))
    return `pool: queue ${pool.queue?.length}, requeued ${pool.requeued?.length}, dispatchScheduled ${pool.dispatchScheduled}, millisPerCall ${pool.balancer?.millisPerCall}, workers ${JSON.stringify(workers)}`
  } catch (error) {
    return `pool internals unreadable: ${String(error)}`
  }
}

/** `tasks` tiny tasks, `window` futures at a time, each result checked. */
const submitPhase = (executor: Executor.Service, pool: PoolName, options: SoakOptions) =>
  Effect.gen(function* () {
    const window = options.window ?? 10_000
    const p = progress(options.tasks, options.phaseMillis, options.warmup ?? 0.5)
    let done = 0
    let wrong = 0
    let more = true
    while (done < options.tasks && more) {
      const n = Math.min(window, options.tasks - done)
      const futures: Array<Future.Future<number, unknown>> = []
      for (let i = 0; i < n; i++) futures.push(yield* executor.submit(inc, done + i))
      const results = yield* Effect.forEach(futures, (f) => Future.result(f)).pipe(
        Effect.timeoutOrElse({
          duration: "120 seconds",
          orElse: () =>
            Effect.flatMap(Effect.forEach(futures, Future.state), (states) =>
              Effect.die(
                new Error(
                  `${pool}: ${n} tasks did not finish within 120 seconds: a hang; ` +
                    `their states ${JSON.stringify([...countByType(states)])}; ${poolInternals(executor)}`
                )
              )
            )
        })
      )
      for (let i = 0; i < n; i++) if (results[i] !== done + i + 1) wrong++
      done += n
      more = p.at(done)
    }
    if (!p.sampler.warm || p.sampler.samples < 2) p.sampler.sample(done)
    return {
      pool,
      phase: "submit" as const,
      count: done,
      millis: Date.now() - p.started,
      wrong,
      ...p.sampler.figures()
    }
  })

/** `map` over the naturals with `buffersize`, stopped after `mapped` results, each checked. */
const mapPhase = (executor: Executor.Service, pool: PoolName, options: SoakOptions) =>
  Effect.gen(function* () {
    const p = progress(options.mapped, options.phaseMillis, options.warmup ?? 0.5)
    let done = 0
    let wrong = 0
    yield* executor.map(inc, naturals(), { buffersize: options.buffersize ?? 1_000 }).pipe(
      Stream.take(options.mapped),
      Stream.runForEachWhile((value) =>
        Effect.sync(() => {
          if (value !== done + 1) wrong++
          done++
          return p.at(done)
        })
      ),
      Effect.timeoutOrElse({
        duration: options.phaseMillis === undefined ? "30 minutes" : options.phaseMillis + 60_000,
        orElse: () => Effect.die(new Error(`${pool}: map stopped giving results: a hang`))
      })
    )
    if (!p.sampler.warm || p.sampler.samples < 2) p.sampler.sample(done)
    return {
      pool,
      phase: "map" as const,
      count: done,
      millis: Date.now() - p.started,
      wrong,
      ...p.sampler.figures()
    }
  })

/** One pool: both phases in one scope, then what its close left behind. */
const soakPool = (pool: PoolName, options: SoakOptions) =>
  Effect.gen(function* () {
    const log = options.log ?? (() => {})
    // Node opens the parent's stdout and stderr lazily (a worker thread's output is piped there): open
    // them now, so they do not count as handles the pool left behind.
    void process.stdout
    void process.stderr
    const before = yield* activeResources
    const childrenBefore = new Set(childProcesses())
    const scope = yield* Scope.make()
    const executor = yield* Scope.provide(scope)(makePool(pool, options.maxWorkers ?? 2)).pipe(Effect.orDie)
    const submit = yield* Effect.orDie(submitPhase(executor, pool, options))
    log(line(submit))
    const map = yield* Effect.orDie(mapPhase(executor, pool, options))
    log(line(map))
    const childrenSeen = childProcesses().filter((pid) => !childrenBefore.has(pid)).length
    const closing = Date.now()
    yield* Scope.close(scope, Exit.void).pipe(
      Effect.timeoutOrElse({
        duration: "30 seconds",
        orElse: () => Effect.die(new Error(`${pool}: closing the scope did not return within 30 seconds`))
      })
    )
    const closeMillis = Date.now() - closing
    // Exits and closed handles are reported asynchronously: give them a moment.
    const deadline = Date.now() + 5_000
    let leftoverResources = yield* resourcesBeyond(before)
    let leftoverChildren = childProcesses().filter((pid) => !childrenBefore.has(pid))
    while ((leftoverResources.length > 0 || leftoverChildren.length > 0) && Date.now() < deadline) {
      yield* Effect.sleep(50)
      leftoverResources = yield* resourcesBeyond(before)
      leftoverChildren = childProcesses().filter((pid) => !childrenBefore.has(pid))
    }
    return {
      pool,
      phases: [submit, map],
      leftoverResources,
      leftoverChildren,
      childrenSeen,
      closeMillis
    } satisfies PoolReport
  })

const line = (p: PhaseReport): string =>
  `${p.pool} ${p.phase}: ${p.count.toLocaleString("en")} in ${(p.millis / 1000).toFixed(1)} s ` +
  `(${Math.round((p.count / p.millis) * 1000).toLocaleString("en")}/s); ` +
  `heap ${p.heapBaseMB} MB after warm-up, growth max ${p.heapGrowthMB} MB, end ${p.heapEndGrowthMB} MB; ` +
  `RSS ${p.rssBaseMB} MB after warm-up, growth max ${p.rssGrowthMB} MB (outside V8's heap ${p.nativeGrowthMB} MB), ` +
  `end ${p.rssEndGrowthMB} MB; ` +
  `${p.samples} samples` +
  (p.wrong > 0 ? `; ${p.wrong} WRONG RESULTS` : "")

/** Runs the soak on each pool in turn and lists every problem. */
export const soak = (options: SoakOptions): Effect.Effect<SoakReport> =>
  Effect.gen(function* () {
    const limitMB = options.limitMB ?? 32
    const rssLimitMB = options.rssLimitMB ?? limitMB
    const reports: Array<PoolReport> = []
    const problems: Array<string> = []
    for (const pool of options.pools ?? allPools) {
      const report = yield* soakPool(pool, options)
      reports.push(report)
      for (const p of report.phases) {
        if (p.wrong > 0) problems.push(`${pool} ${p.phase}: ${p.wrong} results were not input + 1`)
        if (p.heapGrowthMB >= limitMB) problems.push(`${pool} ${p.phase}: the heap grew ${p.heapGrowthMB} MB`)
        if (p.nativeGrowthMB >= rssLimitMB) {
          problems.push(`${pool} ${p.phase}: the RSS outside V8's heap grew ${p.nativeGrowthMB} MB`)
        }
      }
      if (report.leftoverResources.length > 0) {
        problems.push(`${pool}: handles outlived the scope: ${report.leftoverResources.join(", ")}`)
      }
      if (report.leftoverChildren.length > 0) {
        problems.push(`${pool}: child processes outlived the scope: ${report.leftoverChildren.join(", ")}`)
      }
      if (pool === "ProcessPool" && report.childrenSeen === 0 && canSeeProcesses()) {
        problems.push(`${pool}: no worker process was seen while it ran, so the child check cannot be trusted`)
      }
    }
    return { pools: reports, limitMB, rssLimitMB, problems }
  })

const canSeeProcesses = (): boolean => {
  try {
    readFileSync("/proc/self/stat")
    return true
  } catch {
    return false
  }
}

/** `npm run soak`: the full soak, its figures, and exit code 1 on any problem. */
const main = (): void => {
  const count = (name: string, fallback: number): number => {
    const value = process.env[name]
    return value === undefined || value === "" ? fallback : Number(value)
  }
  const pools = process.env.SOAK_POOLS?.split(",").map((p) => p.trim()) as Array<PoolName> | undefined
  const options: SoakOptions = {
    pools,
    tasks: count("SOAK_TASKS", 1_000_000),
    mapped: count("SOAK_MAPPED", 1_000_000),
    log: (text) => console.log(text)
  }
  const started = Date.now()
  console.log(
    `soak: ${options.tasks.toLocaleString("en")} tasks and ${options.mapped.toLocaleString("en")} mapped results ` +
      `per pool, growth limit 32 MB after warm-up`
  )
  Effect.runPromise(soak(options)).then(
    (report) => {
      for (const pool of report.pools) {
        if (process.env.SOAK_VERBOSE) {
          for (const phase of pool.phases) {
            console.log(
              `${pool.pool} ${phase.phase} samples [done, heap in use MB, RSS MB, V8 heap size MB]: ${JSON.stringify(phase.trace)}`
            )
          }
        }
        console.log(
          `${pool.pool}: scope closed in ${pool.closeMillis} ms; worker processes seen ${pool.childrenSeen}; ` +
            `left behind: ${[...pool.leftoverResources, ...pool.leftoverChildren.map((pid) => `pid ${pid}`)].join(", ") || "nothing"}`
        )
      }
      console.log(`soak: ${((Date.now() - started) / 1000).toFixed(1)} s in all`)
      if (report.problems.length > 0) {
        console.error(`soak FAILED:\n${report.problems.map((p) => `- ${p}`).join("\n")}`)
        process.exitCode = 1
      } else {
        console.log("soak passed")
      }
    },
    (error) => {
      console.error("soak FAILED:", error)
      process.exitCode = 1
    }
  )
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main()
