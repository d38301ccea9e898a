/**
 * One shape for a worker thread and a child process, as `NodeWorker.ts` does:
 * send a message, stop or kill it, hear its messages and its exit (code or
 * signal). The pool above never asks which kind it holds.
 *
 * @internal
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as WorkerThreads from "node:worker_threads"
import { forget, guardRuns, watch } from "./childGuard.ts"
import {
  type Doorbell,
  depthKey,
  doorbellKey,
  type FromWorker,
  guardedKey,
  isFromWorker,
  type ToWorker,
  workerSite
} from "./protocol.ts"

type Transferable = WorkerThreads.Transferable

/** @internal */
export interface WorkerHandle {
  /** Thread id or process id. */
  readonly id: number
  /** Throws synchronously when a value cannot be cloned. */
  readonly send: (message: ToWorker, transfer?: ReadonlyArray<Transferable>) => void
  /**
   * Hard stop: `worker.terminate()` or SIGKILL (SIGTERM for `terminate`). A thread that has not ended
   * `abandonAfterMillis` later is abandoned: its exit is reported then, with `abandoned`.
   */
  readonly kill: (signal?: NodeJS.Signals) => void
  /** Only messages of the protocol: whatever else a task sends on the channel is dropped here. */
  readonly onMessage: (listener: (message: FromWorker) => void) => void
  /**
   * Called once, when the worker has ended: its exit code or signal, the error it died of if known,
   * whether it ever started (`false`: it could not be spawned, and `error` says why), and whether
   * it was abandoned (a killed thread still running, no longer waited for).
   */
  readonly onExit: (listener: ExitListener) => void
}

/**
 * How long a killed thread may take to end. `worker.terminate()` takes effect when the thread next
 * runs JavaScript, within milliseconds; one still running this long after is blocked outside it (a
 * system call such as `execSync` or a synchronous read of a pipe), where Node cannot stop it.
 */
/** @internal */
export const abandonAfterMillis = 1_000

/** @internal */
export type ExitListener = (
  code: number | null,
  signal: NodeJS.Signals | null,
  error: unknown,
  started: boolean,
  abandoned: boolean
) => void

/** @internal */
export type Spawn = () => WorkerHandle

/** A kind of worker, given the entry file its workers run. */
/** @internal */
export type SpawnAt = (entry: URL) => Spawn

/**
 * The worker entry a pool runs: `workerEntry` when given, else the one beside this file (in a
 * bundle, `worker.js` beside the bundle). A message saying what to do when it is missing, since
 * every worker would fail to start.
 */
/** @internal */
export const resolveEntry = (option: string | URL | undefined): URL | string => {
  let entry: URL
  if (option !== undefined) {
    try {
      entry = option instanceof URL ? option : new URL(option)
    } catch {
      return `workerEntry must be a file: URL (new URL("./worker.js", import.meta.url)), got ${JSON.stringify(String(option))}`
    }
  } else {
    // `import.meta.url` is missing where a bundler turned this module into CommonJS.
    const here = import.meta.url as string | undefined
    if (here === undefined)
      return "the worker entry cannot be found in a CommonJS bundle: bundle as ESM, or pass workerEntry"
    entry = new URL("./worker.js", here)
  }
  if (entry.protocol === "file:" && !Fs.existsSync(entry)) {
    return (
      `the worker entry ${entry.href} does not exist. In a bundled program, bundle "effect-futures/worker" ` +
      `as worker.js beside the bundle, or pass workerEntry (see docs/bundling.md)`
    )
  }
  return entry
}

/** The depth of a pool's workers started here: one more than this worker's, 1 outside any worker. */
const childDepth = (): number => (workerSite()?.depth ?? 0) + 1

/** @internal */
export interface ThreadOptions {
  readonly workerData: unknown
  readonly execArgv?: ReadonlyArray<string> | undefined
  readonly resourceLimits?: WorkerThreads.ResourceLimits | undefined
}

/** @internal */
export const spawnThread =
  (options: ThreadOptions): SpawnAt =>
  (entry) =>
  () => {
    const { port1, port2 } = new WorkerThreads.MessageChannel()
    const bell = new Int32Array(new SharedArrayBuffer(4))
    const doorbell: Doorbell = { port: port2, bell }
    const worker = new WorkerThreads.Worker(entry, {
      workerData: { ...(options.workerData as object), [doorbellKey]: doorbell, [depthKey]: childDepth() },
      transferList: [port2],
      ...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {})
    })
    let uncaught: unknown
    worker.on("error", (error) => {
      uncaught = error
    })
    let onMessage: ((message: FromWorker) => void) | undefined
    const hear = (message: unknown): void => {
      if (isFromWorker(message)) onMessage?.(message)
    }
    port1.on("message", hear)
    // Not a reason to stay alive: the worker itself is.
    port1.unref()
    let onExit: ExitListener | undefined
    let ended = false
    const end = (code: number | null, abandoned: boolean): void => {
      if (ended) return
      ended = true
      // What the worker posted before it exited is heard before its exit, as with `parentPort`.
      for (let entry = WorkerThreads.receiveMessageOnPort(port1); entry !== undefined; ) {
        hear(entry.message)
        entry = WorkerThreads.receiveMessageOnPort(port1)
      }
      port1.close()
      onExit?.(code, null, uncaught, true, abandoned)
    }
    worker.once("exit", (code) => end(code, false))
    let killed = false
    return {
      id: worker.threadId,
      send: (message, transfer) => {
        port1.postMessage(message, transfer as Array<WorkerThreads.Transferable>)
        Atomics.add(bell, 0, 1)
        Atomics.notify(bell, 0, 1)
      },
      kill: () => {
        if (killed) return
        killed = true
        void worker.terminate()
        // Stuck outside JavaScript, the thread ends only once its call returns: stop waiting, and
        // let it not hold the event loop (the process still cannot exit before it ends).
        setTimeout(() => {
          if (ended) return
          worker.unref()
          end(null, true)
        }, abandonAfterMillis).unref()
      },
      onMessage: (listener) => {
        onMessage = listener
      },
      onExit: (listener) => {
        onExit = listener
      }
    }
  }

/** @internal */
export interface ProcessOptions {
  readonly execArgv?: ReadonlyArray<string> | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly cwd?: string | undefined
}

/** @internal */
export const spawnProcess =
  (options: ProcessOptions): SpawnAt =>
  (entry) =>
  () => {
    const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), [depthKey]: String(childDepth()) }
    // The guard kills the child with this process; without one, the child watches its parent itself.
    if (guardRuns()) env[guardedKey] = "1"
    else delete env[guardedKey]
    const child = ChildProcess.fork(entry, [], {
      serialization: "advanced",
      stdio: ["inherit", "inherit", "inherit", "ipc"],
      ...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
      env,
      ...(options.cwd ? { cwd: options.cwd } : {})
    })
    const pid = child.pid
    if (pid !== undefined) watch(pid)
    // Node emits `spawn` once the child runs; an `error` before it is a failed spawn (ENOENT,
    // EMFILE, EAGAIN), after which Node promises no `exit`, and messages to the child are dropped.
    let started = false
    let spawnError: unknown
    let ended: readonly [code: number | null, signal: NodeJS.Signals | null] | undefined
    let exitListener: ExitListener | undefined
    let late: ReturnType<typeof setTimeout> | undefined
    /** The child's end, once, whichever of `error`, `close` and `exit` tells of it. */
    const end = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (ended !== undefined) return
      ended = [code, signal]
      if (pid !== undefined) forget(pid)
      if (late !== undefined) clearTimeout(late)
      exitListener?.(code, signal, spawnError, started, false)
    }
    child.once("spawn", () => {
      started = true
    })
    // Later errors (a send to a child that is exiting, a kill that failed) are not its end.
    child.on("error", (error) => {
      if (started) return
      spawnError = spawnFailure(error, options)
      end(null, null)
    })
    // `exit` can come before the last messages the child wrote are read from the pipe (its
    // replies, its `Dying`); `close` comes once the IPC channel has disconnected, after them.
    child.once("close", end)
    // Should something else hold the child's end of the channel open, the exit still counts.
    child.once("exit", (code, signal) => {
      late = setTimeout(() => end(code, signal), closeAfterExitMillis)
    })
    return {
      id: child.pid ?? -1,
      send: (message) => {
        if (child.connected) child.send(message)
      },
      kill: (signal = "SIGKILL") => {
        // A child whose spawn failed has no pid but may still hold its handle, and killing that
        // signals pid 0: this process's whole group.
        if (child.pid !== undefined) child.kill(signal)
      },
      onMessage: (listener) =>
        void child.on("message", (message: unknown) => {
          if (isFromWorker(message)) listener(message)
        }),
      onExit: (listener) => {
        exitListener = listener
        if (ended !== undefined) listener(ended[0], ended[1], spawnError, started, false)
      }
    }
  }

/** A failed spawn's error, saying so when it is the `cwd` option that does not exist (Node names the executable). */
const spawnFailure = (error: unknown, options: ProcessOptions): unknown => {
  const cwd = options.cwd
  if ((error as NodeJS.ErrnoException)?.code !== "ENOENT" || cwd === undefined || Fs.existsSync(cwd)) return error
  return new Error(`the cwd option ${JSON.stringify(cwd)} is not a directory that exists: ${String(error)}`, {
    cause: error
  })
}

/** How long after a child's exit its IPC channel may take to close before the exit is reported anyway. */
const closeAfterExitMillis = 2_000
