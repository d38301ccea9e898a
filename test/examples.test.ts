/**
 * Runs every example in `examples/` as a user would (`npm run example -- NAME`
 * runs `node examples/run.ts NAME`), each in its own process with a deadline,
 * and checks its exit code and the lines that show what it demonstrates.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { processExists } from "./fixtures/processes.ts"

const examples = fileURLToPath(new URL("../examples/", import.meta.url))
const runner = `${examples}run.ts`
const DEADLINE_MS = 30_000

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Spawns the runner with `args`; `onStdout` sees the output so far each time
 * more arrives. Kills the child and rejects if it has not exited by the deadline.
 */
const run = (args: ReadonlyArray<string>, onStdout?: (stdout: string, child: ChildProcess) => void): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`example ${args.join(" ")} still running after ${DEADLINE_MS} ms\n${stdout}\n${stderr}`))
    }, DEADLINE_MS)
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      onStdout?.(stdout, child)
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.once("error", reject)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })

/** Runs an example that ends by itself and checks it succeeded. */
const runOk = async (name: string): Promise<string> => {
  const result = await run([name])
  expect(result.stderr).toBe("")
  expect(result.code, result.stderr).toBe(0)
  return result.stdout
}

// Each test outlives its example's deadline, so a hung example fails with its own output.
describe("examples", { timeout: DEADLINE_MS + 15_000 }, () => {
  it("the runner lists the examples and fails on an unknown name", async () => {
    const names = readdirSync(examples)
      .filter((file) => file.endsWith(".ts") && file !== "run.ts")
      .map((file) => file.slice(0, -3))
    const [none, unknown] = await Promise.all([run([]), run(["no-such-example"])])
    for (const result of [none, unknown]) {
      expect(result.code).toBe(2)
      for (const name of names) expect(result.stderr).toContain(`npm run example -- ${name}\n`)
    }
    expect(none.stderr).toContain("Which example?")
    expect(unknown.stderr).toContain('There is no example named "no-such-example"')
  })

  it("urls: loads every page through a thread pool, one 404", async () => {
    const out = await runOk("urls")
    expect(out).toMatch(/'http:\/\/127\.0\.0\.1:\d+\/archive' page is 251392 bytes/)
    expect(out).toMatch(/'http:\/\/127\.0\.0\.1:\d+\/missing' generated an exception: HTTP Error 404: Not Found/)
    expect(out.trim().split("\n")).toHaveLength(6)
  })

  it("primes: Python's output, from a process pool", async () => {
    const out = await runOk("primes")
    expect(out).toBe(
      [
        "112272535095293 is prime: True",
        "112582705942171 is prime: True",
        "112272535095293 is prime: True",
        "115280095190773 is prime: True",
        "115797848077099 is prime: True",
        "1099726899285419 is prime: False",
        ""
      ].join("\n")
    )
  })

  it("cluster: the primes from two runner processes on one SQLite file, which then stop", async () => {
    const out = await runOk("cluster")
    expect(out).toMatch(/^started 2 runners on .*cluster\.db\n/)
    const lines = out.split("\n").filter((line) => line.includes(" is prime: "))
    expect(lines.map((line) => line.replace(/ \(runner [12]\)$/, ""))).toEqual([
      "112272535095293 is prime: True",
      "112582705942171 is prime: True",
      "112272535095293 is prime: True",
      "115280095190773 is prime: True",
      "115797848077099 is prime: True",
      "1099726899285419 is prime: False"
    ])
    expect(out).toContain("runners stopped, storage removed\n")
  })

  it("typed-errors: a worker's OutOfStock is caught by its tag as a real instance", async () => {
    const out = await runOk("typed-errors")
    expect(out).toMatch(/reserved 5 apples in process \d+/)
    expect(out).toContain("OutOfStock caught: only 3 pears left, 5 wanted (instanceof OutOfStock: true")
  })

  it("first-exception: wakes on the failure, cancels the pending jobs, interrupts the running one", async () => {
    const out = await runOk("first-exception")
    expect(out).toContain("job 2 failed: checksum mismatch\n")
    for (const n of [4, 5, 6]) expect(out).toContain(`job ${n}: cancelled before it started\n`)
    expect(out).toContain("job 1: was running, interrupted\n")
    expect(out).toMatch(/states: CANCELLED_AND_NOTIFIED, FINISHED(, CANCELLED_AND_NOTIFIED){4}\n/)
  })

  it("progress: one plain line per job when stdout is not a terminal", async () => {
    const out = await runOk("progress")
    expect(out).not.toContain("\r")
    const bars = out.split("\n").filter((line) => line.startsWith("["))
    expect(bars.map((line) => line.slice(0, 14))).toEqual(
      Array.from({ length: 8 }, (_, i) => `[${"#".repeat(i + 1).padEnd(8)}] ${i + 1}/8`)
    )
    expect(out).toContain("all jobs done\n")
  })

  it("endless-map: takes five primes from an endless generator, reading at most buffersize ahead", async () => {
    const out = await runOk("endless-map")
    expect(out).toContain(
      "the first 5 primes from 1000000000000: 1000000000039, 1000000000061, 1000000000063, 1000000000091, 1000000000121\n"
    )
    const [, checked, pulled, buffersize] =
      /checked (\d+) numbers; the generator was asked for (\d+) .* buffersize (\d+)/.exec(out)!.map(Number)
    expect(checked).toBe(122)
    expect(pulled).toBeGreaterThanOrEqual(checked!)
    expect(pulled).toBeLessThanOrEqual(checked! + buffersize!)
  })

  it("http-offload: the server answers from worker threads, then exits", async () => {
    const out = await runOk("http-offload")
    expect(out).toMatch(/GET \/primes\/1000000 -> 200 \{"below":1000000,"primes":78498,"workerThread":\d+\}/)
    expect(out).toMatch(/GET \/primes\/4000000 -> 200 \{"below":4000000,"primes":283146,"workerThread":\d+\}/)
    expect(out).toContain("GET /primes/nope -> 400 below must be a number")
  })

  it("observability: task spans and worker-made spans in one trace, and the executors' metrics, on the console", async () => {
    const out = await runOk("observability")
    // ConsoleSpanExporter and ConsoleMetricExporter print one `console.dir` object each, from `{` to `}` at column 0.
    const objects = out.split(/^(?=\{$)/m).filter((block) => block.startsWith("{"))
    const field = (block: string, key: string) => new RegExp(`^  ${key}: '([^']*)'`, "m").exec(block)?.[1]
    const spans = objects
      .filter((block) => field(block, "traceId") !== undefined)
      .map((block) => ({
        name: field(block, "name")!,
        id: field(block, "id")!,
        traceId: field(block, "traceId")!,
        parent: /^ {2}parentSpanContext: \{[^}]*spanId: '(\w+)'/m.exec(block)?.[1],
        block
      }))
    const named = (name: string) => spans.filter((span) => span.name === name)
    const [main] = named("main")
    expect(main).toBeDefined()
    expect(main!.parent).toBeUndefined()
    expect(spans.map((span) => span.name).sort()).toEqual(
      [
        ...Array(3).fill("checksum.hash"),
        ...Array(3).fill("effect-futures.task checksum"),
        ...Array(3).fill("effect-futures.task upload"),
        "main",
        ...Array(3).fill("upload.put")
      ].sort()
    )
    for (const span of spans) expect(span.traceId).toBe(main!.traceId)
    const byId = new Map(spans.map((span) => [span.id, span]))
    // main -> task span (with its executor's name) -> the span the task made, in the worker or on the thread pool.
    for (const [child, task, executor] of [
      ["checksum.hash", "effect-futures.task checksum", "checksums"],
      ["upload.put", "effect-futures.task upload", "uploads"]
    ]) {
      for (const span of named(child!)) {
        const parent = byId.get(span.parent!)
        expect(parent?.name).toBe(task)
        expect(parent?.parent).toBe(main!.id)
        expect(parent?.block).toContain(`'executor.name': '${executor}'`)
      }
    }
    const metrics = objects.filter((block) => block.includes("  descriptor: {"))
    const submitted = metrics.find((block) => block.includes("name: 'effect_futures_tasks_submitted'"))
    expect(submitted).toBeDefined()
    expect(submitted).toContain("'executor.name': 'checksums'")
    expect(submitted).toContain("'executor.name': 'uploads'")
    expect(submitted!.match(/value: 3\b/g)).toHaveLength(2)
    for (const name of [
      "tasks_completed",
      "queue_depth",
      "workers_busy",
      "workers_idle",
      "task_queue_wait_ms",
      "task_run_ms"
    ]) {
      expect(
        metrics.some((block) => block.includes(`name: 'effect_futures_${name}'`)),
        name
      ).toBe(true)
    }
  })

  it("graceful-shutdown: SIGINT cancels the pending jobs, stops the running ones, leaves no worker, exits 130", async () => {
    const workers = new Set<number>()
    let signalled = false
    const result = await run(["graceful-shutdown"], (stdout, child) => {
      for (const match of stdout.matchAll(/job \d started in process (\d+)/g)) workers.add(Number(match[1]))
      // Both workers are busy: press Ctrl-C.
      if (!signalled && stdout.includes("ready:") && workers.size === 2) {
        signalled = true
        child.kill("SIGINT")
      }
    })
    expect(result.stderr).toBe("")
    expect(result.code).toBe(130)
    expect(result.stdout).toContain("interrupted: closing the pool\n")
    expect(result.stdout).toContain(
      "summary: 2 running jobs stopped, 4 pending jobs cancelled, 0 finished; every worker is gone\n"
    )
    expect([...workers].filter(processExists)).toEqual([])
  })
})
