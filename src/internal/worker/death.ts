/**
 * How a worker dies, and that its pool hears of it: `process.exit()` in a
 * task or an uncaught error is reported before the exit, with the replies made
 * so far; a child process dies with its parent, even one killed while a task
 * keeps the child busy, and does not die of writing to an output nobody reads.
 * Imports only the wire protocol and this worker's port.
 *
 * @internal
 */

import * as WorkerThreads from "node:worker_threads"
import { encodeDefect, guardedKey, type WorkerSite } from "../wire.ts"
import type { Port } from "./port.ts"

/**
 * What a child's watcher thread runs: a check, every `parentCheckMillis`, that the parent is still
 * this process's parent (a dead parent's children go to another: init or a subreaper), then
 * SIGKILL of the whole process. Plain script, no imports, so the thread starts fast.
 */
const parentWatch = `
const { workerData } = require("node:worker_threads")
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(process.pid, "SIGKILL")
}, workerData.every)
`

/** How often a child checks that its parent lives: with the kill, well within SPEC's 1 s. */
const parentCheckMillis = 200

/**
 * In a child process: its parent can die without a word (SIGKILL) while a task keeps the event loop
 * busy, so the `disconnect` that ends the child is never heard. Where the parent runs no guard, a
 * thread of its own, which no task can block, watches the parent instead. Threads die with their
 * process: a thread worker needs none. The thread costs a child about 70 ms of CPU, off its main
 * thread, and 17 MiB at start.
 */
const watchParent = (): void => {
  try {
    const watcher = new WorkerThreads.Worker(parentWatch, {
      eval: true,
      workerData: { parent: process.ppid, every: parentCheckMillis },
      // The child's own options (`--max-old-space-size`, ...) are not the watcher's, and some are refused in a thread.
      execArgv: []
    })
    // Not a reason for the child to stay alive.
    watcher.unref()
    // A watcher that cannot run leaves the `disconnect` to end the child, as before.
    watcher.on("error", () => {})
  } catch {
    // As above.
  }
}

/**
 * In a child process: it dies with its parent, and writes to an output whose reader is gone are
 * lost quietly. Where the parent runs a guard that kills it (`../childGuard.ts`, which says so in
 * the child's environment), the child needs no watcher thread.
 */
export const guardChild = (): void => {
  if (!WorkerThreads.isMainThread || process.send === undefined) return
  const guarded = process.env[guardedKey] === "1"
  // Not for the processes the child's tasks start.
  delete process.env[guardedKey]
  if (!guarded) watchParent()
  // A child writes to the stdout and stderr it inherited. Once their reader is gone (the parent and
  // its pipeline, killed), a write fails with EPIPE: nobody could read the report, and as an uncaught
  // error it would kill the worker, printing it. Such errors are not reported; the writes are lost.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {})
}

/** What the death report needs from the rest of the worker. */
export interface Dying {
  readonly port: Port
  /** Posts the replies made so far. */
  readonly flush: () => void
  readonly site: WorkerSite
  /** The call running now, if any. */
  readonly current: () => number | undefined
}

/**
 * `process.exit()` in a task, or an error nobody caught, is the worker's death: tell the pool first,
 * since the exit itself can take a while to be reported. The replies made so far go before, so the
 * pool knows which calls ran; the call running now is named. Returns the real `process.exit`, which
 * exits without a report.
 */
export const reportDeath = ({ current, flush, port, site }: Dying): typeof process.exit => {
  const reallyExit = process.exit.bind(process)
  const dying = (how: string, defect: ReturnType<typeof encodeDefect> | undefined, code: number): void => {
    // What is posted now is written before the exit.
    port.writeThrough(true)
    try {
      flush()
    } catch {
      // The replies go down with the worker.
    }
    try {
      // A pool refused here (see `WorkerSite`) is most often why the worker dies: say so.
      const why = defect ?? (site.refused === undefined ? undefined : encodeDefect(site.refused))
      port.post({ _tag: "Dying", how, defect: why, code, id: current() }, [])
    } catch {
      // Nobody to tell.
    }
  }
  process.exit = ((code?: number | string | null) => {
    const exitCode = Number(code ?? process.exitCode ?? 0)
    dying(`exited with code ${code ?? process.exitCode ?? 0}`, undefined, Number.isNaN(exitCode) ? 1 : exitCode)
    return reallyExit(code)
  }) as typeof process.exit

  process.on("uncaughtException", (error) => {
    dying("died of an uncaught exception", encodeDefect(error), 1)
    console.error(error)
    reallyExit(1)
  })
  return reallyExit
}
