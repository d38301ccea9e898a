/**
 * A worker's tasks: it imports their modules by URL (once each), checks each
 * export is the Task it names, and invokes them, an Effect on a fiber of its
 * own. Imports, the initializer and calls are the worker's site, which tells
 * code in them whether it may start a pool. Beside the protocol it imports
 * `../taskExports.ts` (the parent checks exports the same way, with the same
 * message), `../transfer.ts` (the AbortSignal slot `Task.signal` reads on either
 * side), `../remoteSpans.ts` (the recording tracer whose spans the parent
 * replays) and the `Task` type, erased at run time.
 *
 * @internal
 */

import * as WorkerThreads from "node:worker_threads"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { isPromiseLike } from "effect/Predicate"
import type { Task } from "../../Task.ts"
import { depthKey, type WorkerSite, workerSiteKey } from "../protocol.ts"
import type { SpanRecorder } from "../remoteSpans.ts"
import { exportProblem } from "../taskExports.ts"
import { signalKey } from "../transfer.ts"

/** A task as a worker runs it, whatever its types. */
export type AnyTask = Task<ReadonlyArray<unknown>, unknown, unknown>

/** Where a running call's fiber is kept, to be interrupted by an abort. */
export interface Running {
  fiber: { interruptUnsafe: () => void } | undefined
}

/**
 * What a failed import most likely means, and the fix: workers import task modules with Node itself,
 * not through the transform of the test runner or bundler that loaded them in the parent.
 */
const importHint = (module: string, cause: unknown): string => {
  if (/\.(test|spec)\.[cm]?[jt]sx?$/.test(module)) {
    return (
      ". The task is defined in a test file, which a worker cannot import as the test runner does: " +
      "define tasks in a module of their own and import it from the test (see docs/tasks.md)"
    )
  }
  const code = (cause as { code?: unknown } | null)?.code
  if (
    code === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX" ||
    code === "ERR_UNKNOWN_FILE_EXTENSION" ||
    code === "ERR_MODULE_NOT_FOUND" ||
    cause instanceof SyntaxError
  ) {
    return (
      ". Workers import task modules with Node itself, not through your test runner's or bundler's " +
      "transform: a task module and what it imports must load under plain `node` (TypeScript with " +
      "erasable syntax only: no enum, namespace or parameter property; relative imports with their " +
      "real extension, ./helper.ts), or the program must run under a loader the workers inherit " +
      "(tsx, node --import). See docs/tasks.md"
    )
  }
  return ""
}

class TaskImportError extends Error {
  override readonly name = "TaskImportError"
}

/** The call's outcome: an Exit now when the task ran synchronously, a Promise of one otherwise. */
export const invoke = (
  task: AnyTask,
  args: ReadonlyArray<unknown>,
  signal: AbortSignal,
  running: Running,
  recorder?: SpanRecorder
): Exit.Exit<unknown, unknown> | Promise<Exit.Exit<unknown, unknown>> => {
  let out: unknown
  ;(globalThis as any)[signalKey] = signal
  try {
    out = task.fn(...args)
  } catch (error) {
    return Exit.die(error)
  } finally {
    ;(globalThis as any)[signalKey] = undefined
  }
  if (Effect.isEffect(out)) {
    const effect = out as Effect.Effect<unknown, unknown>
    const fiber = Effect.runFork(recorder === undefined ? effect : recorder.wrap(effect))
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) return exit
    running.fiber = fiber
    return new Promise((resolve) => fiber.addObserver(resolve))
  }
  if (isPromiseLike(out)) return Promise.resolve(out).then(Exit.succeed, Exit.die)
  return Exit.succeed(out)
}

/**
 * Runs a chunk of `map`'s calls in order, their results pushed to `values`; the first failure
 * ends the chunk, and `values` then holds the results of the calls before it.
 */
export const runChunk = async (
  task: AnyTask,
  argsList: ReadonlyArray<ReadonlyArray<unknown>>,
  signal: AbortSignal,
  running: Running,
  recorder: SpanRecorder | undefined,
  values: Array<unknown>
): Promise<Exit.Exit<unknown, unknown>> => {
  for (const args of argsList) {
    const exit = await invoke(task, args, signal, running, recorder)
    if (Exit.isFailure(exit)) return exit
    values.push(exit.value)
  }
  return Exit.succeed(values)
}

/** The task modules of this worker, and the site that tells code in them where it runs. */
export class Tasks {
  private readonly tasks = new Map<string, AnyTask | Promise<AnyTask>>()
  /** Task-module imports under way: code they run cannot start a pool (see `WorkerSite`). */
  private importing = 0
  /** The initializer runs: it may start a pool, as a call may. */
  private initializing = false
  /** On `globalThis`, where a pool started in this worker finds it. */
  readonly site: WorkerSite

  constructor(
    /** Whether a call runs now. */
    callRunning: () => boolean
  ) {
    this.site = {
      depth:
        Number(
          WorkerThreads.isMainThread
            ? process.env[depthKey]
            : (WorkerThreads.workerData as Record<string, unknown> | null)?.[depthKey]
        ) || 1,
      importing: () => this.importing > 0,
      running: () => callRunning() || this.initializing,
      refused: undefined
    }
    ;(globalThis as any)[workerSiteKey] = this.site
  }

  /** What a failed import should add when the module tried to start a pool here (usually the real mistake). */
  private refusedNote(): string {
    const refused = this.site.refused
    return refused === undefined
      ? ""
      : `; while it was imported, the module tried to start a worker pool, which was refused: ${
          refused instanceof Error ? refused.message : String(refused)
        }`
  }

  /** Imports `module` and checks that `name` is a Task made for that very export. */
  resolve(module: string, name: string): AnyTask | Promise<AnyTask> {
    const key = `${name}\u0000${module}`
    let found = this.tasks.get(key)
    if (found === undefined) {
      this.importing++
      found = import(module).then(
        (exports: Record<string, unknown>) => {
          this.importing--
          const problem = exportProblem(module, name, exports)
          if (problem !== undefined) throw new TaskImportError(problem + this.refusedNote())
          const task = exports[name] as AnyTask
          this.tasks.set(key, task)
          return task
        },
        (cause: unknown) => {
          this.importing--
          this.tasks.delete(key)
          const error = new TaskImportError(
            `cannot import the module of task ${JSON.stringify(name)}: ${module}: ${cause}${importHint(module, cause)}${this.refusedNote()}`
          )
          error.cause = cause
          throw error
        }
      )
      this.tasks.set(key, found)
    }
    return found
  }

  /** Runs the pool's initializer task: while it runs, it may start a pool, as a call may. */
  async initialize(
    module: string,
    name: string,
    args: ReadonlyArray<unknown>
  ): Promise<[AnyTask, Exit.Exit<unknown, unknown>]> {
    const task = await this.resolve(module, name)
    this.initializing = true
    try {
      return [task, await invoke(task, args, new AbortController().signal, { fiber: undefined })]
    } finally {
      this.initializing = false
    }
  }
}
