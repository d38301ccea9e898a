/**
 * The smoke suite an installed effect-futures passes on every runtime it
 * supports (Node, Bun, Deno): on each pool, submit, `map`, a typed error
 * caught with `catchTag`, `Future.interrupt` of a running task, and shutdown
 * with no worker left. Plain JavaScript importing the package by name, as an
 * app would; test/package.test.ts runs it in a fresh project under each
 * runtime. It prints `ok ...` per check and, last, `smoke: N checks passed`;
 * a failed check exits non-zero. It never calls `process.exit`: a worker left
 * behind keeps the runtime alive, and the caller's deadline catches that.
 */
import { Effect, Stream } from "effect"
import { Executor, Future, InterpreterPoolExecutor, ProcessPoolExecutor, ThreadPoolExecutor } from "effect-futures"
import { fail, Oops, pid, square, waitForInterrupt } from "./tasks.mjs"

const deadline = "30 seconds"
let passed = 0

/** `effect`, or a defect naming `what` once the deadline passes: a hang fails fast. */
const within = (what) => (effect) =>
  Effect.timeoutOrElse(effect, {
    duration: deadline,
    orElse: () => Effect.die(new Error(`${what} did not end within ${deadline}`))
  })

const check = (ok, what, got) =>
  ok
    ? Effect.sync(() => {
        passed++
        console.log(`ok ${what}`)
      })
    : Effect.die(new Error(`failed: ${what}, got ${JSON.stringify(got)}`))

/** Every check but the last on one pool; returns the process ids its tasks saw. */
const onPool = (name) =>
  Effect.gen(function* () {
    const nine = yield* Executor.submit(square, 3).pipe(Effect.flatMap(Future.result), within(`${name} submit`))
    yield* check(nine === 9, `${name} submit`, nine)

    const squares = yield* Executor.map(square, [1, 2, 3, 4]).pipe(Stream.runCollect, within(`${name} map`))
    yield* check(JSON.stringify(squares) === "[1,4,9,16]", `${name} map`, squares)

    const caught = yield* Executor.submit(fail, 7).pipe(
      Effect.flatMap(Future.result),
      Effect.catchTag("Oops", (error) => Effect.succeed(error)),
      within(`${name} typed error`)
    )
    yield* check(caught instanceof Oops && caught.code === 7, `${name} typed error caught with catchTag`, caught)

    const running = yield* Executor.submit(waitForInterrupt)
    const started = yield* Future.progress(running).pipe(Stream.take(1), Stream.runCollect, within(`${name} start`))
    const stopped = yield* Future.interrupt(running).pipe(within(`${name} interrupt`))
    const cancelled = yield* Future.cancelled(running)
    yield* check(started[0] === "started" && stopped && cancelled, `${name} Future.interrupt stops a running task`, {
      started,
      stopped,
      cancelled
    })
    const after = yield* Executor.submit(square, 5).pipe(
      Effect.flatMap(Future.result),
      within(`${name} after interrupt`)
    )
    yield* check(after === 25, `${name} runs tasks after an interrupt`, after)

    return yield* Effect.forEach([1, 2, 3, 4], () =>
      Executor.submit(pid).pipe(Effect.flatMap(Future.result), within(`${name} pid`))
    )
  })

const alive = (id) => {
  try {
    process.kill(id, 0)
    return true
  } catch {
    return false
  }
}

const pools = [
  ["ThreadPoolExecutor", ThreadPoolExecutor.layer({ maxWorkers: 2 })],
  ["InterpreterPoolExecutor", InterpreterPoolExecutor.layer({ maxWorkers: 2 })],
  ["ProcessPoolExecutor", ProcessPoolExecutor.layer({ maxWorkers: 2 })]
]

const program = Effect.gen(function* () {
  for (const [name, layer] of pools) {
    // The layer's scope closes when `onPool` ends: `shutdown({ wait: true })`.
    const pids = yield* onPool(name).pipe(Effect.provide(layer), within(`${name} shutdown`))
    const left = [...new Set(pids)].filter((id) => id !== process.pid && alive(id))
    yield* check(left.length === 0, `${name} shutdown leaves no worker process`, left)
  }
})

Effect.runPromise(program).then(
  () => console.log(`smoke: ${passed} checks passed`),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
