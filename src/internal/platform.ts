/**
 * One shape for a worker thread and a child process, as `NodeWorker.ts` does:
 * send a message, stop or kill it, hear its messages and its exit (code or
 * signal). The pool above never asks which kind it holds.
 *
 * @internal
 */
import * as ChildProcess from "node:child_process"
import * as FS from "node:fs"
import * as WorkerThreads from "node:worker_threads"
import { type Doorbell, doorbellKey, type FromWorker, isFromWorker, type ToWorker } from "./protocol.ts"

type Transferable = WorkerThreads.Transferable

/** @internal */
export interface WorkerHandle {
  /** Thread id or process id. */
  readonly id: number
  /** Throws synchronously when a value cannot be cloned. */
  readonly send: (message: ToWorker, transfer?: ReadonlyArray<Transferable>) => void
  /** Hard stop: `worker.terminate()` or SIGKILL (SIGTERM for `terminate`). */
  readonly kill: (signal?: NodeJS.Signals) => void
  /** Only messages of the protocol: whatever else a task sends on the channel is dropped here. */
  readonly onMessage: (listener: (message: FromWorker) => void) => void
  /**
   * Called once, when the worker has ended: its exit code or signal, the error it died of if known,
   * and whether it ever started (`false`: it could not be spawned, and `error` says why).
   */
  readonly onExit: (
    listener: (code: number | null, signal: NodeJS.Signals | null, error: unknown, started: boolean) => void
  ) => void
}

/** @internal */
export type Spawn = () => WorkerHandle

const entry = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url)

/** @internal */
export interface ThreadOptions {
  readonly workerData: unknown
  readonly execArgv?: ReadonlyArray<string> | undefined
  readonly resourceLimits?: WorkerThreads.ResourceLimits | undefined
}

/** @internal */
export const spawnThread =
  (options: ThreadOptions): Spawn =>
  () => {
    const { port1, port2 } = new WorkerThreads.MessageChannel()
    const bell = new Int32Array(new SharedArrayBuffer(4))
    const doorbell: Doorbell = { port: port2, bell }
    const worker = new WorkerThreads.Worker(entry, {
      workerData: { ...(options.workerData as object), [doorbellKey]: doorbell },
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
    return {
      id: worker.threadId,
      send: (message, transfer) => {
        port1.postMessage(message, transfer as Array<WorkerThreads.Transferable>)
        Atomics.add(bell, 0, 1)
        Atomics.notify(bell, 0, 1)
      },
      kill: () => void worker.terminate(),
      onMessage: (listener) => {
        onMessage = listener
      },
      onExit: (listener) =>
        void worker.once("exit", (code) => {
          // What the worker posted before it exited is heard before its exit, as with `parentPort`.
          for (let entry = WorkerThreads.receiveMessageOnPort(port1); entry !== undefined; ) {
            hear(entry.message)
            entry = WorkerThreads.receiveMessageOnPort(port1)
          }
          port1.close()
          listener(code, null, uncaught, true)
        })
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
  (options: ProcessOptions): Spawn =>
  () => {
    const child = ChildProcess.fork(entry, [], {
      serialization: "advanced",
      stdio: ["inherit", "inherit", "inherit", "ipc"],
      ...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {})
    })
    // Node emits `spawn` once the child runs; an `error` before it is a failed spawn (ENOENT,
    // EMFILE, EAGAIN), after which Node promises no `exit`, and messages to the child are dropped.
    let started = false
    let spawnError: unknown
    let ended: readonly [code: number | null, signal: NodeJS.Signals | null] | undefined
    let exitListener: Parameters<WorkerHandle["onExit"]>[0] | undefined
    let late: ReturnType<typeof setTimeout> | undefined
    /** The child's end, once, whichever of `error`, `close` and `exit` tells of it. */
    const end = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (ended !== undefined) return
      ended = [code, signal]
      if (late !== undefined) clearTimeout(late)
      exitListener?.(code, signal, spawnError, started)
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
        if (ended !== undefined) listener(ended[0], ended[1], spawnError, started)
      }
    }
  }

/** A failed spawn's error, saying so when it is the `cwd` option that does not exist (Node names the executable). */
const spawnFailure = (error: unknown, options: ProcessOptions): unknown => {
  const cwd = options.cwd
  if ((error as NodeJS.ErrnoException)?.code !== "ENOENT" || cwd === undefined || FS.existsSync(cwd)) return error
  return new Error(`the cwd option ${JSON.stringify(cwd)} is not a directory that exists: ${String(error)}`, {
    cause: error
  })
}

/** How long after a child's exit its IPC channel may take to close before the exit is reported anyway. */
const closeAfterExitMillis = 2_000
