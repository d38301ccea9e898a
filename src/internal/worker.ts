/**
 * The entry of every pool worker, thread or child process: it imports task
 * modules by URL, runs calls one at a time in the order they came, and posts
 * results back in batches. Only the protocol is shared with the pool.
 *
 * @internal
 */

import * as V8 from "node:v8"
import type { Transferable } from "node:worker_threads"
import * as WorkerThreads from "node:worker_threads"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { isPromiseLike } from "effect/Predicate"
import type { Task } from "../Task.ts"
import { progressKey } from "./progress.ts"
import {
  type Call,
  type Doorbell,
  depthKey,
  doorbellKey,
  encodeDefect,
  encodeExit,
  type FromWorker,
  isToWorker,
  type Reply,
  type ToWorker,
  unclonable,
  type WorkerSite,
  workerSiteKey
} from "./protocol.ts"
import { SpanRecorder } from "./remoteSpans.ts"
import { exportProblem } from "./taskExports.ts"
import { signalKey, unwrap } from "./transfer.ts"

interface Port {
  readonly post: (message: FromWorker, transfer: ReadonlyArray<Transferable>) => void
  readonly listen: (listener: (message: ToWorker) => void) => void
  readonly close: () => void
  /** When what was posted is not all written yet (a child's pipe takes a large message in many writes): its end. */
  readonly unwritten: () => Promise<void> | undefined
  /** While on, a post is written before it returns (when nothing is still queued before it). */
  readonly writeThrough: (on: boolean) => void
}

/** A thread's own port for calls, with its doorbell; a child process has none. */
const doorbell = (WorkerThreads.workerData as Record<string, unknown> | null)?.[doorbellKey] as Doorbell | undefined

let listener: ((message: ToWorker) => void) | undefined

const port: Port = WorkerThreads.parentPort
  ? {
      post: (message, transfer) =>
        (doorbell?.port ?? WorkerThreads.parentPort!).postMessage(message, transfer as Array<any>),
      listen: (l) => {
        listener = l
        if (doorbell === undefined) WorkerThreads.parentPort!.on("message", l)
        else doorbell.port.on("message", l)
      },
      close: () => {
        doorbell?.port.close()
        // Deno's `parentPort` has no `close`: the thread then ends with its event loop.
        const parent = WorkerThreads.parentPort as { close?: unknown } | null
        if (typeof parent?.close === "function") parent.close()
      },
      // A message posted to a port is whole at once, and delivered even if the thread then exits.
      unwritten: () => undefined,
      writeThrough: () => {}
    }
  : {
      post: (message) => {
        // A message that cannot be serialized throws here, and is never written: not counted.
        process.send!(message, onWritten)
        posted++
      },
      listen: (listener) => {
        process.on("message", listener as (message: unknown) => void)
        // The parent is gone (even killed): a child never outlives it.
        process.on("disconnect", () => process.exit(0))
      },
      close: () => process.disconnect(),
      unwritten: () =>
        written === posted ? undefined : new Promise((resolve) => void writtenWaiters.push(resolve as () => void)),
      // A blocking pipe: a write finishes before `send` returns, so `process.exit` cannot cut it short.
      writeThrough: (on) => void ipcPipe()?.setBlocking(on)
    }

/**
 * A child's messages posted and written: `process.send` queues what the pipe does not take at once
 * and writes it from the event loop, and `process.exit` drops what is still queued.
 */
let posted = 0
let written = 0
let writtenWaiters: Array<() => void> = []
const onWritten = (): void => {
  // An error (the parent gone) ends the write too.
  if (++written !== posted || writtenWaiters.length === 0) return
  const waiters = writtenWaiters
  writtenWaiters = []
  for (const resolve of waiters) resolve()
}

interface Pipe {
  readonly setBlocking: (blocking: boolean) => unknown
}

let pipe: Pipe | undefined

/**
 * The pipe under a child's IPC channel, which Node does not expose: found among the active handles
 * by its fd (it is active once the channel has a `message` listener). `undefined` elsewhere (Deno,
 * Bun): there a post may still be cut short by an exit right after it.
 */
const ipcPipe = (): Pipe | undefined => {
  if (pipe !== undefined) return pipe
  try {
    const fd = (process.channel as { readonly fd?: number } | undefined)?.fd
    const handles: ReadonlyArray<any> = (process as any)._getActiveHandles?.() ?? []
    pipe = handles.find((handle) => handle?.fd === fd && typeof handle.setBlocking === "function")
  } catch {
    // Not Node's handles: no pipe to make blocking.
  }
  return pipe
}

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
 * busy, so the `disconnect` that ends the child is never heard. A thread of its own, which no task
 * can block, watches the parent instead. Threads die with their process: a thread worker needs none.
 * The thread costs a child about 70 ms of CPU, off its main thread, and 17 MiB at start.
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

if (WorkerThreads.isMainThread && process.send !== undefined) {
  watchParent()
  // A child writes to the stdout and stderr it inherited. Once their reader is gone (the parent and
  // its pipeline, killed), a write fails with EPIPE: nobody could read the report, and as an uncaught
  // error it would kill the worker, printing it. Such errors are not reported; the writes are lost.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {})
}

/** Reads the messages waiting on the thread's port, without the event loop; `true` if there were any. */
const receiveWaiting = (calls: Doorbell): boolean => {
  let any = false
  for (let entry = WorkerThreads.receiveMessageOnPort(calls.port); entry !== undefined; ) {
    any = true
    listener!(entry.message as ToWorker)
    entry = WorkerThreads.receiveMessageOnPort(calls.port)
  }
  return any
}

/** How long an idle thread sleeps on its doorbell before going back to its event loop. */
const parkMillis = 5
/** The ports this worker holds open itself; more, and something else listens. */
let ownPorts = Number.POSITIVE_INFINITY
let parkScheduled = false
/** Asked to stop: it no longer sleeps, so it can exit. */
let stopped = false

/**
 * With nothing in flight (no call queued or running, no timer, immediate, socket or file
 * operation left by a task, no port beyond its own), the thread sleeps on its doorbell for a
 * while and takes the next calls straight from its port. Anything else waiting on the event
 * loop keeps it from sleeping, and a sleep is short, so work a task left behind is never held up
 * for long.
 */
const park = (): void => {
  parkScheduled = false
  const calls = doorbell
  if (calls === undefined || stopped || draining || queue.length > 0 || listener === undefined) return
  let ports = 0
  for (const resource of process.getActiveResourcesInfo()) {
    if (resource !== "MessagePort") return
    ports++
  }
  if (ports > ownPorts || process.stdout.writableLength > 0 || process.stderr.writableLength > 0) return
  // A message posted after this read changes the count, so the wait below returns at once.
  const seen = Atomics.load(calls.bell, 0)
  if (receiveWaiting(calls)) return
  if (Atomics.wait(calls.bell, 0, seen, parkMillis) === "timed-out") return
  receiveWaiting(calls)
}

/** Sleeps taken one after another without a turn of the event loop; the next goes through it. */
let parkedInARow = 0
const parksBetweenTurns = 32

/**
 * After the last call's reply is posted: sleep at once, in this microtask, as Piscina's workers
 * do, so a steady stream of calls never waits on the event loop; every `parksBetweenTurns`-th
 * sleep comes after a turn of it, so what it holds (V8's own tasks) still runs. Microtasks a
 * finished task left behind run when the next call comes, or after the sleep.
 */
const parkNow = (): void => {
  if (++parkedInARow < parksBetweenTurns) {
    park()
  } else {
    parkedInARow = 0
    schedulePark()
  }
}

/** Parks once the calls' microtasks have run, from a clean stack. */
const schedulePark = (): void => {
  if (doorbell === undefined || parkScheduled) return
  parkScheduled = true
  setImmediate(park)
}

type AnyTask = Task<ReadonlyArray<unknown>, unknown, unknown>

const tasks = new Map<string, AnyTask | Promise<AnyTask>>()

/** Task-module imports under way: code they run cannot start a pool (see `WorkerSite`). */
let importing = 0
/** The initializer runs: it may start a pool, as a call may. */
let initializing = false

const site: WorkerSite = {
  depth:
    Number(
      WorkerThreads.isMainThread
        ? process.env[depthKey]
        : (WorkerThreads.workerData as Record<string, unknown> | null)?.[depthKey]
    ) || 1,
  importing: () => importing > 0,
  running: () => current !== undefined || initializing,
  refused: undefined
}
;(globalThis as any)[workerSiteKey] = site

/** What a failed import should add when the module tried to start a pool here (usually the real mistake). */
const refusedNote = (): string =>
  site.refused === undefined
    ? ""
    : `; while it was imported, the module tried to start a worker pool, which was refused: ${
        site.refused instanceof Error ? site.refused.message : String(site.refused)
      }`

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

/** Imports `module` and checks that `name` is a Task made for that very export. */
const resolveTask = (module: string, name: string): AnyTask | Promise<AnyTask> => {
  const key = `${name}\u0000${module}`
  let found = tasks.get(key)
  if (found === undefined) {
    importing++
    found = import(module).then(
      (exports: Record<string, unknown>) => {
        importing--
        const problem = exportProblem(module, name, exports)
        if (problem !== undefined) throw new TaskImportError(problem + refusedNote())
        const task = exports[name] as AnyTask
        tasks.set(key, task)
        return task
      },
      (cause: unknown) => {
        importing--
        tasks.delete(key)
        const error = new TaskImportError(
          `cannot import the module of task ${JSON.stringify(name)}: ${module}: ${cause}${importHint(module, cause)}${refusedNote()}`
        )
        error.cause = cause
        throw error
      }
    )
    tasks.set(key, found)
  }
  return found
}

/** The call's outcome: an Exit now when the task ran synchronously, a Promise of one otherwise. */
const invoke = (
  task: AnyTask,
  args: ReadonlyArray<unknown>,
  signal: AbortSignal,
  running: { fiber: { interruptUnsafe: () => void } | undefined },
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
const runChunk = async (
  task: AnyTask,
  argsList: ReadonlyArray<ReadonlyArray<unknown>>,
  signal: AbortSignal,
  running: { fiber: { interruptUnsafe: () => void } | undefined },
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

const queue: Array<Call> = []
/** How long a finished call's reply may wait for others to share its message. */
const flushAfterMillis = 1
let batchStarted = 0
let replies: Array<Reply> = []
/** The buffers the batch moves: every reply's own, which `transfersOf` keeps apart for a post of one reply. */
let transfers: Array<Transferable> = []
const transfersOf = new WeakMap<Reply, ReadonlyArray<Transferable>>()
let draining = false
let current: { id: number; controller: AbortController; fiber: { interruptUnsafe: () => void } | undefined } | undefined
/** Whether replies carry memory use (the pool's `maxMemoryPerWorker`), and when it was last measured. */
let reportMemory = false
let memoryMeasuredAt = 0
/** RSS costs a read of `/proc` in a process: at most every few milliseconds while calls keep coming. */
const memoryEveryMillis = 5

/** This worker's memory use in bytes: the process's RSS, or the thread's own heap used. */
const memoryUsed = (): number =>
  WorkerThreads.isMainThread ? process.memoryUsage.rss() : V8.getHeapStatistics().used_heap_size

const clones = (u: unknown): boolean => {
  try {
    structuredClone(u)
    return true
  } catch {
    return false
  }
}

/** Posts the batch; a result that cannot be cloned fails only its own call. */
const flush = (): void => {
  if (replies.length === 0) return
  const batch = replies
  const transfer = transfers
  replies = []
  transfers = []
  let memory: number | undefined
  if (reportMemory) {
    const now = performance.now()
    if (queue.length === 0 || now - memoryMeasuredAt >= memoryEveryMillis) {
      memoryMeasuredAt = now
      memory = memoryUsed()
    }
  }
  try {
    port.post(
      memory === undefined ? { _tag: "Done", replies: batch } : { _tag: "Done", replies: batch, memory },
      transfer
    )
  } catch {
    // Each reply with its own buffers only: moving the others' too would detach them before their turn.
    for (const reply of batch) {
      try {
        port.post({ _tag: "Done", replies: [reply] }, transfersOf.get(reply) ?? [])
      } catch (cause) {
        // Name what could not be cloned: the result, the results of a failed chunk's calls before
        // its failure, or the failure itself. Those results still go when only the failure is at fault.
        const done = reply.done !== undefined && clones(reply.done) ? reply.done : undefined
        const value =
          reply.exit._tag === "Success"
            ? reply.exit.value
            : reply.done !== undefined && done === undefined
              ? reply.done
              : reply.exit
        const error = unclonable("result", value, "result", cause)
        const exit: Reply["exit"] = { _tag: "Unclonable", valueType: error.valueType, detail: error.detail }
        port.post(
          { _tag: "Done", replies: [done === undefined ? { id: reply.id, exit } : { id: reply.id, exit, done }] },
          []
        )
      }
    }
  }
}

/** `flush`, written before it returns: for a call that has started, and may exit the process. */
const flushWritten = (): void => {
  if (replies.length === 0) return
  port.writeThrough(true)
  try {
    flush()
  } finally {
    port.writeThrough(false)
  }
}

const drain = async (): Promise<void> => {
  draining = true
  while (queue.length > 0) {
    const call = queue.shift()!
    // Replies wait to go in one message, but not behind a call that may run long.
    if (replies.length > 0 && performance.now() - batchStarted > flushAfterMillis) flush()
    // The call is current from here, so an abort that comes while its module loads is heard.
    const controller = new AbortController()
    current = { id: call.id, controller, fiber: undefined }
    if (call.timed === true) port.post({ _tag: "Started", id: call.id }, [])
    let task = resolveTask(call.module, call.name)
    if (task instanceof Promise) {
      flush()
      try {
        task = await task
      } catch (error) {
        current = undefined
        replies.push({ id: call.id, exit: { _tag: "Die", defect: encodeDefect(error) } })
        continue
      }
    }
    // The call may end the process (`process.exit`), which drops what is not written yet: the
    // replies posted before it are written first.
    const unwritten = port.unwritten()
    if (unwritten !== undefined) await unwritten
    if (controller.signal.aborted) {
      current = undefined
      replies.push({ id: call.id, exit: { _tag: "Interrupt" } })
      continue
    }
    // A traced call: the spans its Effect makes are recorded and go back with the reply.
    const recorder = call.trace === undefined ? undefined : new SpanRecorder(call.trace)
    const done: Array<unknown> | undefined = call.chunk ? [] : undefined
    let exit =
      done !== undefined
        ? runChunk(task, call.args as ReadonlyArray<ReadonlyArray<unknown>>, controller.signal, current, recorder, done)
        : invoke(task, call.args, controller.signal, current, recorder)
    if (exit instanceof Promise) {
      // The call has started and may exit soon: these replies are written before it goes on.
      flushWritten()
      exit = await exit
    }
    current = undefined
    // A task that stops on its AbortSignal by failing (as `fetch` rejects) was interrupted.
    if (controller.signal.aborted && Exit.isFailure(exit)) exit = Exit.interrupt()
    const moved = transfers.length
    if (Exit.isSuccess(exit)) exit = Exit.succeed(unwrap(exit.value, transfers))
    if (replies.length === 0) batchStarted = performance.now()
    const spans = recorder?.wire()
    // A chunk that failed part way: the results before the failure go back too, for `map` to give.
    const partial = done !== undefined && done.length > 0 && Exit.isFailure(exit) ? done : undefined
    const reply: Reply =
      spans === undefined && partial === undefined
        ? { id: call.id, exit: encodeExit(task, exit) }
        : {
            id: call.id,
            exit: encodeExit(task, exit),
            ...(partial === undefined ? {} : { done: partial }),
            ...(spans === undefined ? {} : { spans })
          }
    if (transfers.length > moved) transfersOf.set(reply, transfers.slice(moved))
    replies.push(reply)
  }
  flush()
  draining = false
  if (doorbell !== undefined) parkNow()
}

/** Runs the pool's initializer; `false` when it failed, and then no call may run here. */
const runInitializer = async (module: string, name: string, args: ReadonlyArray<unknown>): Promise<boolean> => {
  try {
    const task = await resolveTask(module, name)
    let exit: Exit.Exit<unknown, unknown>
    initializing = true
    try {
      exit = await invoke(task, args, new AbortController().signal, { fiber: undefined })
    } finally {
      initializing = false
    }
    if (Exit.isFailure(exit)) {
      const wire = encodeExit(task, exit)
      throw wire._tag === "Die" ? wire.defect : new Error(`the initializer failed: ${JSON.stringify(wire)}`)
    }
  } catch (error) {
    const defect = typeof error === "object" && error !== null && "isError" in error ? error : encodeDefect(error)
    port.post({ _tag: "InitFailed", defect: defect as any }, [])
    port.close()
    return false
  }
  return true
}

let ready: Promise<boolean> = Promise.resolve(true)

// Calls run one at a time, so progress belongs to the current one. A value that cannot be
// cloned throws in the task that reported it.
;(globalThis as any)[progressKey] = (value: unknown): void => {
  if (current !== undefined) port.post({ _tag: "Progress", id: current.id, value }, [])
}

// `process.exit()` in a task, or an error nobody caught, is the worker's death: tell the pool first,
// since the exit itself can take a while to be reported. The replies made so far go before, so the
// pool knows which calls ran; the call running now is named.
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
    port.post({ _tag: "Dying", how, defect: why, code, id: current?.id }, [])
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

port.listen((message) => {
  // Only the pool's messages: anything else on the channel (a task's own, say) is not a call.
  if (!isToWorker(message)) return
  switch (message._tag) {
    case "Init":
      ready = runInitializer(message.module, message.name, message.args)
      return
    case "Run":
      for (const call of message.calls) queue.push(call)
      if (!draining) {
        draining = true
        void ready.then((ok) => (ok ? drain() : undefined))
      }
      return
    case "Abort": {
      if (current?.id === message.id) {
        current.controller.abort()
        current.fiber?.interruptUnsafe()
        return
      }
      const index = queue.findIndex((call) => call.id === message.id)
      if (index >= 0) {
        queue.splice(index, 1)
        replies.push({ id: message.id, exit: { _tag: "Interrupt" } })
        if (!draining) flush()
      }
      return
    }
    case "Stop":
      stopped = true
      port.close()
      // Asked once its calls are done: a timer or socket a task module left open must not keep
      // it alive until the pool kills it.
      if (!draining) reallyExit(0)
      return
    case "ReportMemory":
      reportMemory = true
      return
  }
})

// Counted once listening: the ports this worker itself keeps open.
if (doorbell !== undefined) {
  ownPorts = process.getActiveResourcesInfo().filter((resource) => resource === "MessagePort").length
}
