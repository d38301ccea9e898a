/**
 * What a worker pool holds: its workers (a thread or a process each, through the platform's
 * handle) and the calls sent to them.
 *
 * @internal
 */
import type { Task } from "../../Task.ts"
import type { SentCalls } from "../fifo.ts"
import type * as core from "../future/state.ts"
import type { TaskTrace } from "../observe.ts"
import type { WorkerHandle } from "../platform.ts"
import type { Attempts } from "../policy/attempt.ts"

/** @internal */
export type AnyTask = Task<ReadonlyArray<unknown>, unknown, unknown>

/** A submitted call, from its queue to its worker's reply. */
/** @internal */
export interface WorkItem {
  readonly id: number
  readonly future: core.FutureImpl<unknown, unknown>
  readonly task: AnyTask
  readonly args: ReadonlyArray<unknown>
  /** A chunk of `map`'s calls (`args` is a list of argument lists): the map input of its first call. */
  readonly chunk: number | undefined
  worker: PoolWorker | undefined
  /** Its attempts under `submitWith`'s options; `undefined` for a plain submit. */
  readonly attempts: Attempts | undefined
  /** When it was submitted and when last sent to a worker (`performance.now()`; -1: not sent). */
  readonly submittedAt: number
  sentAt: number
  /** The bytes of the buffers its arguments move to the worker (`Task.transfer`); 0 in a process pool, which copies them. */
  readonly moved: number
  /** Its share of the time its `Run` message took to post (milliseconds): the weight of its arguments. */
  postMillis: number
  /** Its span's making, when the caller traces. */
  readonly trace: TaskTrace | undefined
}

/** A worker thread or process of the pool. */
/** @internal */
export interface PoolWorker {
  readonly handle: WorkerHandle
  /** Calls sent and not yet answered, in the order sent. */
  readonly items: SentCalls<WorkItem>
  sent: number
  /** When it last answered, or was sent calls while holding none. */
  since: number
  /** No more calls: `maxTasksPerChild` reached, or being replaced. */
  retiring: boolean
  /** Its exit is expected (asked to stop, or killed by the pool). */
  stopping: boolean
  /** It has answered calls: a worker that cannot get that far is not restarted for `minWorkers`. */
  answered: boolean
  /** Kills it if it has not exited `terminateGrace` after being asked to stop. */
  killTimer: ReturnType<typeof setTimeout> | undefined
  /** The task of the last call sent to it, to say what a worker that cannot be stopped is stuck in. */
  lastTask: AnyTask | undefined
}

/** What a pool's worker is called in messages: a thread or a process. */
/** @internal */
export const workerNoun = (kind: "InterpreterPool" | "ProcessPool"): string =>
  kind === "ProcessPool" ? "process" : "thread"

/** The longest delay `setTimeout` takes; a longer one (or an infinite Duration) means never. */
/** @internal */
export const maxTimerMillis = 2_147_483_647
