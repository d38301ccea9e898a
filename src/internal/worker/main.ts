/**
 * The main role of every pool worker, thread or child process, started by
 * `../worker.js`: it wires the other roles in this folder together and runs
 * calls one at a time, in the order they came. The worker side imports only
 * the wire protocol, and the few modules it shares with the parent by design:
 * `../reporter.ts` (the global slot `Task.progress` reports through) and
 * `../transfer.ts` (moved buffers). No Effect, no Schema: `./tasks.ts` loads
 * what an Effect task needs when one first runs.
 *
 * @internal
 */

import type { Transferable } from "node:worker_threads"
import { progressKey } from "../reporter.ts"
import { unwrap } from "../transfer.ts"
import { type Call, encodeDefect, isToWorker, type Reply, type WireExit } from "../wire.ts"
import { guardChild, reportDeath } from "./death.ts"
import { Parking } from "./park.ts"
import { doorbell, port } from "./port.ts"
import { Replies } from "./replies.ts"
import { encodeFailed, invoke, type Outcome, type Running, runChunk, Tasks } from "./tasks.ts"

/** The call running now, with what interrupts it. */
interface Current extends Running {
  readonly id: number
  readonly controller: AbortController
}

/** The calls of this worker: those waiting, the one running, and the loop that runs them. */
const calls = {
  queue: [] as Array<Call>,
  current: undefined as Current | undefined,
  draining: false,
  /** Whether calls may run: `false` once the initializer failed. */
  ready: Promise.resolve(true) as Promise<boolean>
}

guardChild()

const tasks = new Tasks(() => calls.current !== undefined)
const replies = new Replies(port, () => calls.queue.length > 0)
const parking =
  doorbell === undefined
    ? undefined
    : new Parking(doorbell, () => calls.draining || calls.queue.length > 0, port.receiveWaiting)

const drain = async (): Promise<void> => {
  calls.draining = true
  const queue = calls.queue
  while (queue.length > 0) {
    const call = queue.shift()!
    // Replies wait to go in one message, but not behind a call that may run long. The call's run
    // time counts from here: posting the replies before it is work the calls cost this worker.
    const started = performance.now()
    replies.flushIfDue(started)
    // The call is current from here, so an abort that comes while its module loads is heard.
    const controller = new AbortController()
    const current: Current = { id: call.id, controller, fiber: undefined, recorder: undefined }
    calls.current = current
    if (call.timed === true) port.post({ _tag: "Started", id: call.id }, [])
    let task = tasks.resolve(call.module, call.name)
    if (task instanceof Promise) {
      replies.flush()
      try {
        task = await task
      } catch (error) {
        calls.current = undefined
        replies.push({ id: call.id, exit: { _tag: "Die", defect: encodeDefect(error) } })
        continue
      }
    }
    // The call may end the process (`process.exit`), which drops what is not written yet: the
    // replies posted before it are written first.
    const unwritten = port.unwritten()
    if (unwritten !== undefined) await unwritten
    if (controller.signal.aborted) {
      calls.current = undefined
      replies.push({ id: call.id, exit: { _tag: "Interrupt" } })
      continue
    }
    // A traced call: the spans its Effect makes are recorded and go back with the reply.
    const done: Array<unknown> | undefined = call.chunk ? [] : undefined
    let outcome: Outcome | Promise<Outcome> =
      done !== undefined
        ? runChunk(
            task,
            call.args as ReadonlyArray<ReadonlyArray<unknown>>,
            controller.signal,
            current,
            call.trace,
            done
          )
        : invoke(task, call.args, controller.signal, current, call.trace)
    if (outcome instanceof Promise) {
      // The call has started and may exit soon: these replies are written before it goes on.
      replies.flushWritten()
      outcome = await outcome
    }
    calls.current = undefined
    const transfer: Array<Transferable> = []
    let exit: WireExit | Promise<WireExit>
    if (outcome._tag === "Success") exit = { _tag: "Success", value: unwrap(outcome.value, transfer) }
    // A task that stops on its AbortSignal by failing (as `fetch` rejects) was interrupted.
    else if (controller.signal.aborted) exit = { _tag: "Interrupt" }
    else {
      exit = encodeFailed(task, outcome)
      if (exit instanceof Promise) exit = await exit
    }
    const spans = current.recorder?.wire()
    // A chunk that failed part way: the results before the failure go back too, for `map` to give.
    const partial = done !== undefined && done.length > 0 && exit._tag !== "Success" ? done : undefined
    const now = performance.now()
    const millis = now - started
    const reply: Reply =
      spans === undefined && partial === undefined
        ? { id: call.id, exit, millis }
        : {
            id: call.id,
            exit,
            millis,
            ...(partial === undefined ? {} : { done: partial }),
            ...(spans === undefined ? {} : { spans })
          }
    replies.pushRun(reply, transfer, now)
  }
  replies.flush()
  calls.draining = false
  parking?.parkNow()
}

/** Runs the pool's initializer; `false` when it failed, and then no call may run here. */
const runInitializer = async (module: string, name: string, args: ReadonlyArray<unknown>): Promise<boolean> => {
  try {
    const [task, outcome] = await tasks.initialize(module, name, args)
    if (outcome._tag !== "Success") {
      const wire = await encodeFailed(task, outcome)
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

// Calls run one at a time, so progress belongs to the current one. A value that cannot be
// cloned throws in the task that reported it.
;(globalThis as any)[progressKey] = (value: unknown): void => {
  if (calls.current !== undefined) port.post({ _tag: "Progress", id: calls.current.id, value }, [])
}

const reallyExit = reportDeath({
  port,
  flush: () => replies.flush(),
  site: tasks.site,
  current: () => calls.current?.id
})

port.listen((message) => {
  // Only the pool's messages: anything else on the channel (a task's own, say) is not a call.
  if (!isToWorker(message)) return
  switch (message._tag) {
    case "Init":
      calls.ready = runInitializer(message.module, message.name, message.args)
      return
    case "Run":
      for (const call of message.calls) calls.queue.push(call)
      if (!calls.draining) {
        calls.draining = true
        void calls.ready.then((ok) => (ok ? drain() : undefined))
      }
      return
    case "Abort": {
      const current = calls.current
      if (current?.id === message.id) {
        current.controller.abort()
        current.fiber?.interruptUnsafe()
        return
      }
      const index = calls.queue.findIndex((call) => call.id === message.id)
      if (index >= 0) {
        calls.queue.splice(index, 1)
        replies.push({ id: message.id, exit: { _tag: "Interrupt" } })
        if (!calls.draining) replies.flush()
      }
      return
    }
    case "Stop":
      parking?.stop()
      port.close()
      // Asked once its calls are done: a timer or socket a task module left open must not keep
      // it alive until the pool kills it.
      if (!calls.draining) reallyExit(0)
      return
    case "ReportMemory":
      replies.reportMemoryUse()
      return
    case "Ping":
      // After the initializer, which fails with `InitFailed` instead.
      void calls.ready.then((ok) => (ok ? port.post({ _tag: "Ready" }, []) : undefined))
      return
  }
})

// Counted once listening: the ports this worker itself keeps open.
parking?.countOwnPorts()
