/**
 * What a worker pool says and does when a worker fails it: the errors of a worker's death and
 * of a replaced worker, the warning for a thread that cannot be stopped, and the kill of a
 * worker that does not exit when told.
 *
 * @internal
 */
import { ExecutionFailed, WorkerDied } from "../../Errors.ts"
import { abandonAfterMillis } from "../platform.ts"
import { maxTimerMillis, type PoolWorker, workerNoun } from "./worker.ts"

/** How long a worker told to stop may take to exit before a log line says the pool waits for it. */
const noticeMillis = 1_000

/** What a call gets whose worker was replaced, after another call there did not stop in time, before it replied. */
/** @internal */
export const lostWithWorker = (): ExecutionFailed =>
  new ExecutionFailed({
    name: "WorkerReplaced",
    message:
      "the call ran in a worker that was replaced before it sent the result: " +
      "a task interrupted there did not stop within interruptGrace"
  })

/** How a worker died, for the messages below. */
/** @internal */
export interface Death {
  readonly kind: "InterpreterPool" | "ProcessPool"
  readonly workerId: number
  /** What happened, as "was killed by signal SIGKILL" or "exited with code 1". */
  readonly how: string
  readonly cause: unknown
  readonly exitCode: number | null
  readonly signal: string | null
}

const detailOf = (cause: unknown): string => (cause instanceof Error ? `: ${cause.name}: ${cause.message}` : "")

/** The reason a pool breaks when a worker dies (`onWorkerDeath: "break"`, CPython's `BrokenProcessPool`). */
/** @internal */
export const brokenByDeath = (death: Death): string => {
  const noun = workerNoun(death.kind)
  return (
    `A ${noun} in the pool terminated abruptly while the future was running or pending ` +
    `(${noun} ${death.workerId} ${death.how}${detailOf(death.cause)})`
  )
}

/** The error of the call a worker was running when it died, under `onWorkerDeath: "replace"`. */
/** @internal */
export const diedRunning = (death: Death): WorkerDied => {
  const noun = workerNoun(death.kind)
  const cause = death.cause
  const outOfMemory = (cause as { code?: unknown } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY"
  return new WorkerDied({
    kind: death.kind,
    workerId: death.workerId,
    exitCode: death.exitCode,
    signal: death.signal,
    ...(outOfMemory ? { resourceLimit: "maxOldGenerationSizeMb" } : {}),
    message:
      `the ${noun} ${death.workerId} running this call died (it ${death.how}${detailOf(cause)}), so the call did ` +
      `not complete; the pool replaced the ${noun} and carries on (onWorkerDeath: "replace"). Run the call ` +
      `again if it is safe to repeat` +
      (outOfMemory ? ", with a larger resourceLimits.maxOldGenerationSizeMb" : ""),
    ...(cause === undefined ? {} : { cause })
  })
}

/** The warning for a killed thread that did not end (blocked in a system call): the pool goes on without it. */
/** @internal */
export const abandonedWarning = (kind: "InterpreterPool" | "ProcessPool", worker: PoolWorker): string => {
  const noun = workerNoun(kind)
  const task = worker.lastTask
  return (
    `abandoned ${noun} ${worker.handle.id}: it did not end ${abandonAfterMillis} ms after it was killed, so it ` +
    "is blocked outside JavaScript (a system call such as execSync or a synchronous read of a pipe), where Node " +
    "cannot stop it" +
    (task === undefined ? "" : `; its last call was task ${JSON.stringify(task.name)} of ${task.module}`) +
    ". The pool no longer waits for it; Node ends the thread when that call returns, and the process cannot " +
    "exit before then. Give such a call a timeout (execSync's timeout option), or run it on a ProcessPoolExecutor, " +
    "whose workers can always be killed"
  )
}

/**
 * Kills `worker` if it is still there (`isLive`) `graceMillis` from now. A worker told to stop
 * exits at once, so one still there a moment later is stuck: a warning says what the pool waits for.
 */
/** @internal */
export const killLater = (
  kind: "InterpreterPool" | "ProcessPool",
  worker: PoolWorker,
  graceMillis: number,
  isLive: () => boolean,
  warn: (message: string) => void
): void => {
  if (worker.killTimer !== undefined) return
  const name = `${workerNoun(kind)} ${worker.handle.id}`
  const arm = (f: () => void, ms: number) => {
    worker.killTimer = setTimeout(() => {
      worker.killTimer = undefined
      if (isLive()) f()
    }, ms)
    worker.killTimer.unref()
  }
  const kill = () => {
    warn(`killed ${name}: it did not exit within terminateGrace (${graceMillis} ms) of being told to stop`)
    worker.handle.kill()
  }
  if (graceMillis <= noticeMillis) {
    arm(kill, graceMillis)
    return
  }
  arm(() => {
    warn(
      `waiting for ${name} to exit: it was told to stop ${noticeMillis} ms ago and has not (its event loop ` +
        "is busy: a task left a loop, a long callback or a blocking call behind); " +
        (graceMillis > maxTimerMillis
          ? "terminateGrace is infinite, so the pool waits for as long as it takes"
          : `the pool kills it at terminateGrace (${graceMillis} ms)`)
    )
    if (graceMillis <= maxTimerMillis) arm(kill, graceMillis - noticeMillis)
  }, noticeMillis)
}
