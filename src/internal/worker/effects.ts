/**
 * How a worker runs a task's Effect: on a fiber of its own, with the spans it
 * makes recorded when the call is traced. Loaded by `./tasks.ts` when a task
 * first returns an Effect, so a worker whose tasks are plain functions never
 * loads Effect; by then the task module has loaded it, and this costs little.
 *
 * @internal
 */

import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { SpanRecorder, type WireParent } from "../remoteSpans.ts"
import type { Outcome, Running } from "./tasks.ts"

/** The outcome of an Effect's Exit: its typed failure first, then its defect, else an interruption. */
const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { _tag: "Success", value: exit.value }
  const reasons = exit.cause.reasons
  const fail = reasons.find(Cause.isFailReason)
  if (fail !== undefined) return { _tag: "Fail", error: fail.error }
  const die = reasons.find(Cause.isDieReason)
  if (die !== undefined) return { _tag: "Die", defect: die.defect }
  return { _tag: "Interrupt" }
}

/**
 * Runs a task's Effect: its outcome now when it ends synchronously, a Promise of it otherwise, the
 * fiber then kept in `running` for an abort to interrupt. A traced call's spans go to its recorder.
 */
export const runEffect = (
  out: unknown,
  running: Running,
  trace: WireParent | undefined
): Outcome | Promise<Outcome> => {
  let effect = out as Effect.Effect<unknown, unknown>
  if (trace !== undefined) {
    running.recorder ??= new SpanRecorder(trace)
    effect = running.recorder.wrap(effect)
  }
  const fiber = Effect.runFork(effect)
  const exit = fiber.pollUnsafe()
  if (exit !== undefined) return outcomeOf(exit)
  running.fiber = fiber
  return new Promise((resolve) => fiber.addObserver((exit) => resolve(outcomeOf(exit))))
}
