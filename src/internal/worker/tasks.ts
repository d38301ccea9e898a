/**
 * A worker's tasks: it imports their modules by URL (once each), checks each
 * export is the Task it names, and invokes them, an Effect on a fiber of its
 * own. Imports, the initializer and calls are the worker's site, which tells
 * code in them whether it may start a pool. Beside the wire protocol it
 * imports `../taskExports.ts` (the parent checks exports the same way, with
 * the same message), `../transfer.ts` (the AbortSignal slot `Task.signal`
 * reads on either side) and the `Task` type, erased at run time. No Effect: a
 * worker whose tasks are plain functions never loads it. The first task that
 * returns an Effect loads `./effects.ts` (which runs it on a fiber), and the
 * first typed failure of a task with an error Schema loads `../protocol.ts`
 * (which encodes it): both come from modules the task module has loaded
 * already, so they cost little then.
 *
 * @internal
 */

import * as WorkerThreads from "node:worker_threads"
import type { Task } from "../../Task.ts"
import type { SpanRecorder, WireParent } from "../remoteSpans.ts"
import { exportProblem } from "../taskExports.ts"
import { signalKey } from "../transfer.ts"
import { depthKey, encodeDefect, encodeFailure, type WireExit, type WorkerSite, workerSiteKey } from "../wire.ts"

/** A task as a worker runs it, whatever its types. */
export type AnyTask = Task<ReadonlyArray<unknown>, unknown, unknown>

/** What a running call keeps: its fiber, to be interrupted by an abort, and the spans it records when traced. */
export interface Running {
  fiber: { interruptUnsafe: () => void } | undefined
  recorder: SpanRecorder | undefined
}

/** How a call ended, in the worker, before it takes its wire form. */
export type Outcome =
  | { readonly _tag: "Success"; readonly value: unknown }
  /** A typed failure of the task's Effect. */
  | { readonly _tag: "Fail"; readonly error: unknown }
  | { readonly _tag: "Die"; readonly defect: unknown }
  | { readonly _tag: "Interrupt" }

/** A module loaded on first use; `now` holds it once loaded. */
const lazy = <M>(load: () => Promise<M>) => {
  let loading: Promise<M> | undefined
  const module = {
    now: undefined as M | undefined,
    load: (): Promise<M> =>
      (loading ??= load().then((m) => {
        module.now = m
        return m
      }))
  }
  return module
}

const effects = lazy(() => import("./effects.ts"))
const typedFailures = lazy(() => import("../protocol.ts"))

/**
 * Effect's own brand of an Effect (`Effect.TypeId`), which `Effect.isEffect` checks: read here
 * without loading Effect (a test checks the two agree).
 */
export const effectTypeId = "~effect/Effect"

const isEffect = (u: unknown): boolean =>
  ((typeof u === "object" && u !== null) || typeof u === "function") && effectTypeId in u

const isPromiseLike = (u: unknown): u is PromiseLike<unknown> =>
  ((typeof u === "object" && u !== null) || typeof u === "function") && typeof (u as any).then === "function"

const succeed = (value: unknown): Outcome => ({ _tag: "Success", value })
const die = (defect: unknown): Outcome => ({ _tag: "Die", defect })

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

/** The call's outcome: now when the task ran synchronously, a Promise of it otherwise. */
export const invoke = (
  task: AnyTask,
  args: ReadonlyArray<unknown>,
  signal: AbortSignal,
  running: Running,
  trace: WireParent | undefined
): Outcome | Promise<Outcome> => {
  let out: unknown
  ;(globalThis as any)[signalKey] = signal
  try {
    out = task.fn(...args)
  } catch (error) {
    return die(error)
  } finally {
    ;(globalThis as any)[signalKey] = undefined
  }
  if (isEffect(out)) {
    const run = effects.now?.runEffect
    return run !== undefined ? run(out, running, trace) : effects.load().then((m) => m.runEffect(out, running, trace))
  }
  if (isPromiseLike(out)) return Promise.resolve(out).then(succeed, die)
  return succeed(out)
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
  trace: WireParent | undefined,
  values: Array<unknown>
): Promise<Outcome> => {
  for (const args of argsList) {
    const outcome = await invoke(task, args, signal, running, trace)
    if (outcome._tag !== "Success") return outcome
    values.push(outcome.value)
  }
  return succeed(values)
}

/** The wire form of an outcome that is not a success; a Promise of it while `../protocol.ts` loads. */
export const encodeFailed = (
  task: AnyTask,
  outcome: Exclude<Outcome, { readonly _tag: "Success" }>
): WireExit | Promise<WireExit> => {
  switch (outcome._tag) {
    case "Die":
      return { _tag: "Die", defect: encodeDefect(outcome.defect) }
    case "Interrupt":
      return { _tag: "Interrupt" }
    case "Fail": {
      const schema = task.error
      if (schema === undefined) return encodeFailure(outcome.error)
      const encode = typedFailures.now?.encodeTypedFailure
      return encode !== undefined
        ? encode(schema, outcome.error)
        : typedFailures.load().then((m) => m.encodeTypedFailure(schema, outcome.error))
    }
  }
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
  async initialize(module: string, name: string, args: ReadonlyArray<unknown>): Promise<[AnyTask, Outcome]> {
    const task = await this.resolve(module, name)
    this.initializing = true
    try {
      const running: Running = { fiber: undefined, recorder: undefined }
      return [task, await invoke(task, args, new AbortController().signal, running, undefined)]
    } finally {
      this.initializing = false
    }
  }
}
