/**
 * ClusterExecutor against real runner processes on localhost: two runners on
 * ephemeral ports sharing a SQLite file in a temp folder, and the test process
 * as the client. Every wait has a deadline; every runner is killed at the end
 * and checked gone.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { pathToFileURL } from "node:url"
import { describe, expect, it, layer } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer, Metric, type Scope, Stream } from "effect"
import * as SocketRunner from "effect/cluster/SocketRunner"
import type * as Schema from "effect/Schema"
import * as ClusterExecutor from "../../src/ClusterExecutor.ts"
import {
  Executor,
  ExecutorShutdownError,
  Future,
  Observability,
  QueueFull,
  SerializationError,
  Task,
  UnknownTask
} from "../../src/index.ts"
import { decodeExit, encodeArgs, type WireExit } from "../../src/internal/cluster/codec.ts"
import { shardingConfig, storage, TaskEntity, transport } from "../../src/internal/cluster/entity.ts"
import { awaitExit, expectFailure, failureOf, within } from "../fixtures/deadlock.ts"
import { memoryTracer } from "../fixtures/memoryTracer.ts"
import { counting, repeat } from "../suites/executor.ts"
import { clientLayer, clusterFolder, eventually, lines, type RunnerProcess, spawnRunner } from "./fixtures/harness.ts"
import {
  add,
  boom,
  ClusterTestError,
  checkPositive,
  echo,
  failWith,
  flaky,
  keysAndBytes,
  nextDay,
  nothing,
  notOnRunners,
  record,
  sleepOrAbort,
  today,
  waitForAbort,
  whereAmI
} from "./fixtures/tasks.ts"

/** The shared cluster: its folder and two runners. */
class Cluster extends Context.Service<
  Cluster,
  { readonly dir: string; readonly filename: string; readonly runners: ReadonlyArray<RunnerProcess> }
>()("test/Cluster") {}

const ClusterLive = Layer.effect(
  Cluster,
  Effect.gen(function* () {
    const { dir, filename } = yield* clusterFolder
    const runners = yield* Effect.all([spawnRunner({ filename }), spawnRunner({ filename })], {
      concurrency: "unbounded"
    })
    return { dir, filename, runners }
  })
)

const SharedLive = Layer.unwrap(Effect.map(Cluster, ({ filename }) => clientLayer({ filename }))).pipe(
  Layer.provideMerge(ClusterLive)
)

/**
 * `body` on a client of its own (`make`), on the shared cluster's storage: the
 * client's scope closes (its calls drained) before its storage does.
 */
const withOwnClient = <A, E>(
  filename: string,
  options: ClusterExecutor.Options,
  body: (executor: Executor.Service) => Effect.Effect<A, E, Scope.Scope>
) =>
  Effect.scoped(Effect.flatMap(ClusterExecutor.make(options), body)).pipe(
    Effect.provide(ClusterExecutor.layerSqlite({ filename }))
  )

const resultWithin = <A, E>(future: Future.Future<A, E>, what: string) =>
  within(Future.result(future), "30 seconds", what)

/** The payloads of the `Run` messages in the cluster's storage that name `text` (a call's file). */
const runMessagesNaming = (filename: string, text: string): ReadonlyArray<string> => {
  const db = new DatabaseSync(filename, { readOnly: true })
  try {
    const rows = db
      .prepare("SELECT payload FROM cluster_messages WHERE tag = 'Run' AND instr(payload, ?) > 0")
      .all(text) as Array<{ payload: string }>
    return rows.map((row) => row.payload)
  } finally {
    db.close()
  }
}

// The real clock (no TestClock): runners are real processes.
layer(SharedLive, { timeout: 90_000, excludeTestServices: true })("ClusterExecutor on two runner processes", (it) => {
  it.effect("runs a registered Task on a runner process and the future gives its result", () =>
    Effect.gen(function* () {
      const { runners } = yield* Cluster
      expect(yield* resultWithin(yield* Executor.submit(add, 1, 2), "add")).toBe(3)
      const where = yield* resultWithin(yield* Executor.submit(whereAmI, 7), "whereAmI")
      expect(where.value).toBe(7)
      expect(runners.map((r) => r.pid)).toContain(where.pid)
      expect(where.pid).not.toBe(process.pid)
    })
  )

  it.effect("spreads calls over both runners", () =>
    Effect.gen(function* () {
      const { runners } = yield* Cluster
      const seen = new Set<number>()
      // Runners take their shards within a few assignment rounds: send batches until both answered.
      yield* Effect.gen(function* () {
        const futures = yield* Effect.forEach(
          Array.from({ length: 16 }, (_, i) => i),
          (i) => Executor.submit(whereAmI, i)
        )
        for (const future of futures) seen.add((yield* resultWithin(future, "whereAmI")).pid)
        if (seen.size < 2) return yield* Effect.fail("one runner so far")
      }).pipe(Effect.eventually, (effect) => within(effect, "30 seconds", "calls reaching both runners"))
      expect([...seen].sort()).toEqual(runners.map((r) => r.pid).sort())
    })
  )

  it.effect("keeps a typed failure typed: it arrives as its class and catchTag sees it", () =>
    Effect.gen(function* () {
      const future = yield* Executor.submit(failWith, "bad input", 7)
      const exit = yield* awaitExit(future, "30 seconds", "failWith")
      const error = expectFailure(exit, ClusterTestError, "ClusterTestError")
      expect(error.code).toBe(7)
      const caught = yield* Future.result(future).pipe(
        Effect.catchTag("ClusterTestError", (e) => Effect.succeed(`caught ${e.message}`))
      )
      expect(caught).toBe("caught bad input")
    })
  )

  it.effect("makes a thrown error a defect that keeps its name and message", () =>
    Effect.gen(function* () {
      const exit = yield* awaitExit(yield* Executor.submit(boom, "out of range"), "30 seconds", "boom")
      expect(Exit.isFailure(exit) && Cause.hasDies(exit.cause)).toBe(true)
      const defect = Exit.isFailure(exit) ? (Cause.squash(exit.cause) as Error) : undefined
      expect(defect?.name).toBe("RangeError")
      expect(defect?.message).toBe("out of range")
    })
  )

  it.effect("fails the future of a Task no runner registered with UnknownTask, and no runner imports its module", () =>
    Effect.gen(function* () {
      const { dir } = yield* Cluster
      const exit = yield* awaitExit(yield* Executor.submit(notOnRunners, 1), "30 seconds", "notOnRunners")
      const unknown = expectFailure(exit, UnknownTask, "UnknownTask")
      expect(unknown.name).toBe("notOnRunners")
      // A module no runner was started with: importing it would leave a marker file.
      const marker = join(dir, "imported")
      const module = join(dir, "evil.ts")
      writeFileSync(module, `import { writeFileSync } from "node:fs"\nwriteFileSync(${JSON.stringify(marker)}, "x")\n`)
      const evil = Task.make(pathToFileURL(module).href, "pwn", () => 1)
      const evilExit = yield* awaitExit(yield* Executor.submit(evil), "30 seconds", "an unregistered module")
      expect(expectFailure(evilExit, UnknownTask, "UnknownTask").module).toBe(pathToFileURL(module).href)
      expect(existsSync(marker)).toBe(false)
    })
  )

  it.effect("fails the future of a function or an Effect with UnknownTask: only Tasks cross machines", () =>
    Effect.gen(function* () {
      const fn = yield* Executor.submit((a: number) => a + 1, 1)
      expectFailure(yield* awaitExit(fn, "5 seconds", "a function"), UnknownTask, "UnknownTask")
      const effect = yield* Executor.submit(Effect.succeed(1))
      expectFailure(yield* awaitExit(effect, "5 seconds", "an Effect"), UnknownTask, "UnknownTask")
    })
  )

  it.effect("fails an argument JSON would change with SerializationError naming it, and sends nothing", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [new Date(0), "Date"],
        [new Map([["a", 1]]), "Map"],
        [new Set([1]), "Set"],
        [new Uint8Array([1, 2]), "Uint8Array"],
        [{ when: new Date(0) }, "argument 1.when is a Date"],
        [[1, Number.NaN], "argument 1[1] is NaN"],
        [{ big: 1n }, "bigint"]
      ]
      for (const [value, named] of cases) {
        const future = yield* Executor.submit(echo, value)
        // Nothing is sent: the future is already done.
        expect(yield* Future.done(future)).toBe(true)
        const error = expectFailure(yield* Future.await(future), SerializationError, "SerializationError")
        expect(error.direction).toBe("argument")
        expect(`${error.valueType} ${error.detail}`).toContain(named)
      }
    })
  )

  it.effect("fails a result JSON would change with SerializationError instead of changing it", () =>
    Effect.gen(function* () {
      const exit = yield* awaitExit(yield* Executor.submit(today), "30 seconds", "today")
      const error = expectFailure(exit, SerializationError, "SerializationError")
      expect(error.direction).toBe("result")
      expect(error.valueType).toBe("Date")
    })
  )

  it.effect("sends Date, Map, Set and Uint8Array through the Task's Schemas as themselves", () =>
    Effect.gen(function* () {
      const day = yield* resultWithin(yield* Executor.submit(nextDay, new Date(0)), "nextDay")
      expect(day).toBeInstanceOf(Date)
      expect(day.getTime()).toBe(86_400_000)
      const out = yield* resultWithin(
        yield* Executor.submit(
          keysAndBytes,
          new Map([
            ["a", 1],
            ["b", 2]
          ]),
          new Uint8Array([1, 2, 3])
        ),
        "keysAndBytes"
      )
      expect(out.keys).toEqual(new Set(["a", "b"]))
      expect(out.reversed).toEqual(new Uint8Array([3, 2, 1]))
    })
  )

  it.effect("sends plain JSON and top-level undefined exactly", () =>
    Effect.gen(function* () {
      const value = { a: [1, "x", null, true], b: { c: 1.5, d: "" } }
      expect(yield* resultWithin(yield* Executor.submit(echo, value), "echo")).toEqual(value)
      expect(yield* resultWithin(yield* Executor.submit(nothing, undefined), "nothing")).toBeUndefined()
    })
  )

  it.effect("map gives results in input order, a chunk travelling as one message to one runner", () =>
    Effect.gen(function* () {
      const inputs = Array.from({ length: 40 }, (_, i) => i)
      const sums = yield* Executor.map(add, inputs, inputs).pipe(Stream.runCollect, (e) =>
        within(e, "30 seconds", "map add")
      )
      expect(sums).toEqual(inputs.map((i) => 2 * i))
      const where = yield* Executor.map(whereAmI, inputs, { chunksize: 10 }).pipe(Stream.runCollect, (e) =>
        within(e, "30 seconds", "map whereAmI")
      )
      expect(where.map((w) => w.value)).toEqual(inputs)
      for (let chunk = 0; chunk < 4; chunk++) {
        const pids = new Set(where.slice(chunk * 10, chunk * 10 + 10).map((w) => w.pid))
        expect(pids.size).toBe(1)
      }
    })
  )

  it.effect("map without options works over an endless iterable, reading only a window ahead of the consumer", () =>
    Effect.gen(function* () {
      const input = counting()
      const first = yield* Executor.map(add, input.values, repeat(1)).pipe(Stream.take(5), Stream.runCollect, (e) =>
        within(e, "30 seconds", "map over an endless input")
      )
      expect(first).toEqual([1, 2, 3, 4, 5])
      expect(input.state.pulled).toBeGreaterThanOrEqual(5)
      // The window: 32 chunks on a cluster, of at most 1024 calls.
      expect(input.state.pulled).toBeLessThanOrEqual(32 * 1024 + 1)
    })
  )

  it.effect("map without options grows its chunks to hundreds of tiny calls, as the round trips allow", () =>
    Effect.gen(function* () {
      const { filename } = yield* Cluster
      const n = 20_000
      const inputs = Array.from({ length: n }, (_, i) => `untuned-map-${i}`)
      const results = yield* Executor.map(echo, inputs).pipe(Stream.runCollect, (e) =>
        within(e, "60 seconds", "an untuned map of 20,000 calls")
      )
      expect(results).toEqual(inputs)
      const chunks = runMessagesNaming(filename, "untuned-map-").flatMap(
        (payload) => (JSON.parse(payload) as { chunks: ReadonlyArray<number> | null }).chunks ?? []
      )
      expect(chunks.reduce((sum, size) => sum + size, 0)).toBe(n)
      // Chunks of one call each would be a round trip per call; they start at one and double.
      expect(Math.max(...chunks)).toBeGreaterThanOrEqual(64)
      expect(chunks.length).toBeLessThan(n / 10)
    })
  )

  it.effect(
    "runs each call of a message of several on its own: a failed one neither stops nor changes the others",
    () =>
      Effect.gen(function* () {
        const { filename } = yield* Cluster
        // The entity's own client, as the executor's client sends: one message with three calls.
        const engine = SocketRunner.layerClientOnly.pipe(
          Layer.provideMerge(storage),
          Layer.provide(transport),
          Layer.provide(shardingConfig({}, {})),
          Layer.provide(ClusterExecutor.layerSqlite({ filename }))
        )
        const calls = [
          [1, 300],
          [-2, 0],
          [3, 0]
        ].map((args) => encodeArgs(checkPositive, args)) as unknown as ReadonlyArray<Schema.Json>
        const replies = yield* Effect.flatMap(TaskEntity.client, (clientFor) =>
          clientFor("0").Run({
            module: checkPositive.module,
            name: checkPositive.name,
            chunks: null,
            calls,
            once: null,
            batch: null
          })
        ).pipe(Effect.provide(engine), (e) => within(e, "30 seconds", "a message of three calls"))
        const exits = replies.map((wire) => decodeExit(checkPositive, wire as unknown as WireExit))
        expect(exits).toHaveLength(3)
        expect(exits[0]).toEqual(Exit.succeed(1))
        expect(expectFailure(exits[1], ClusterTestError, "ClusterTestError").code).toBe(-2)
        expect(exits[2]).toEqual(Exit.succeed(3))
      })
  )

  it.effect(
    "runs each map chunk of a message of several on its own: the reply lists per chunk its endings up to its first failure",
    () =>
      Effect.gen(function* () {
        const { filename } = yield* Cluster
        const engine = SocketRunner.layerClientOnly.pipe(
          Layer.provideMerge(storage),
          Layer.provide(transport),
          Layer.provide(shardingConfig({}, {})),
          Layer.provide(ClusterExecutor.layerSqlite({ filename }))
        )
        const calls = [
          [1, 0],
          [-2, 0],
          [9, 0],
          [3, 0],
          [4, 300]
        ].map((args) => encodeArgs(checkPositive, args)) as unknown as ReadonlyArray<Schema.Json>
        const send = (chunks: ReadonlyArray<number>) =>
          Effect.flatMap(TaskEntity.client, (clientFor) =>
            clientFor("0").Run({
              module: checkPositive.module,
              name: checkPositive.name,
              chunks,
              calls,
              once: null,
              batch: `map-chunks-${chunks.join("-")}`
            })
          ).pipe(Effect.provide(engine), (e) => within(e, "30 seconds", "a message of map chunks"))
        const replies = yield* send([3, 2])
        expect(replies).toHaveLength(2)
        const [first, second] = replies.map((wires) =>
          (wires as ReadonlyArray<unknown>).map((wire) => decodeExit(checkPositive, wire as unknown as WireExit))
        )
        // The first chunk stops at its failure; the second, slower, is not cut short by it.
        expect(first).toHaveLength(2)
        expect(first[0]).toEqual(Exit.succeed(1))
        expect(expectFailure(first[1], ClusterTestError, "ClusterTestError").code).toBe(-2)
        expect(second).toEqual([Exit.succeed(3), Exit.succeed(4)])
        // Chunk sizes that do not cover the calls: every chunk fails with a defect, nothing runs on a guess.
        const bad = yield* send([2, 2])
        expect(bad).toHaveLength(2)
        for (const wires of bad) {
          const [exit] = (wires as ReadonlyArray<unknown>).map((wire) =>
            decodeExit(checkPositive, wire as unknown as WireExit)
          )
          expect(Exit.isFailure(exit) && String(Cause.squash(exit.cause))).toContain("do not add up")
        }
      })
  )

  it.effect("sends map chunks queued while calls are out in one message, each chunk still on one runner", () =>
    Effect.gen(function* () {
      const { dir, filename } = yield* Cluster
      const file = join(dir, "map-burst.txt")
      const n = 256
      const results = yield* withOwnClient(filename, { maxInFlight: 64 }, (executor) =>
        executor
          .map(
            record,
            Array.from({ length: n }, () => file),
            Array.from({ length: n }, (_, i) => i),
            Array.from({ length: n }, () => 0),
            { chunksize: 2 }
          )
          .pipe(Stream.runCollect, (e) => within(e, "60 seconds", "map of 128 chunks"))
      )
      expect(results.map((r) => r.value)).toEqual(Array.from({ length: n }, (_, i) => i))
      for (let chunk = 0; chunk < n / 2; chunk++) expect(results[2 * chunk].pid).toBe(results[2 * chunk + 1].pid)
      // maxInFlight 64: up to 8 chunks per message; one message each would be 128.
      const messages = runMessagesNaming(filename, file)
      expect(messages.length).toBeLessThan(64)
      expect(messages.length).toBeGreaterThanOrEqual(n / 2 / 8)
      expect(lines(file)).toHaveLength(n)
    })
  )

  it.effect("map gives the results before a failed call, then fails with its typed error", () =>
    Effect.gen(function* () {
      for (const chunksize of [1, 3]) {
        const got: Array<number> = []
        // The call before the failed one is the slowest: its result still comes first.
        const exit = yield* Executor.map(checkPositive, [1, 2, -3, 4, 5], [0, 300, 0, 0, 0], { chunksize }).pipe(
          Stream.runForEach((n) => Effect.sync(() => got.push(n))),
          Effect.exit,
          (e) => within(e, "30 seconds", "map checkPositive")
        )
        expect(got).toEqual([1, 2])
        expect(expectFailure(exit, ClusterTestError, "ClusterTestError").code).toBe(-3)
      }
    })
  )

  it.effect("Future.interrupt reaches the running task on its runner", () =>
    Effect.gen(function* () {
      const { dir } = yield* Cluster
      const file = join(dir, "abort.txt")
      const future = yield* Executor.submit(waitForAbort, file)
      yield* eventually(() => (lines(file).includes("started") ? true : undefined), "30 seconds", "the task starting")
      expect(yield* within(Future.interrupt(future), "10 seconds", "Future.interrupt")).toBe(true)
      expect(yield* Future.cancelled(future)).toBe(true)
      yield* eventually(() => (lines(file).includes("aborted") ? true : undefined), "10 seconds", "the abort arriving")
    })
  )

  it.effect("sends a burst of calls of one Task in one message while calls are out, each its own result", () =>
    Effect.gen(function* () {
      const { dir, filename } = yield* Cluster
      const file = join(dir, "burst.txt")
      yield* withOwnClient(filename, { maxInFlight: 64 }, (executor) =>
        Effect.gen(function* () {
          // A fresh run of this fiber: the burst below is not cut by a scheduler yield.
          yield* Effect.yieldNow
          const first = yield* executor.submit(add, 1, 1)
          const burst: Array<Future.Future<{ readonly pid: number; readonly value: number }, unknown>> = []
          for (let i = 0; i < 128; i++) burst.push(yield* executor.submit(record, file, i, 0))
          expect(yield* resultWithin(first, "the first call")).toBe(2)
          const results = yield* Effect.forEach(burst, (f) => resultWithin(f, "a call of the burst"))
          expect(results.map((r) => r.value)).toEqual(Array.from({ length: 128 }, (_, i) => i))
        })
      )
      // maxInFlight 64: up to 8 calls per message, and a sixteenth of those waiting; one message each would be 128.
      const messages = runMessagesNaming(filename, file)
      expect(messages.length).toBeLessThan(64)
      expect(messages.length).toBeGreaterThanOrEqual(128 / 8)
      expect(lines(file)).toHaveLength(128)
    })
  )

  it.effect(
    "Future.interrupt of one call of a message of several stops it alone on its runner; the others run on",
    () =>
      Effect.gen(function* () {
        const { dir, filename } = yield* Cluster
        const files = [0, 1].map((i) => join(dir, `batched-abort-${i}.txt`))
        yield* withOwnClient(filename, { maxInFlight: 64 }, (executor) =>
          Effect.gen(function* () {
            yield* Effect.yieldNow
            const first = yield* executor.submit(add, 1, 1)
            const futures: Array<Future.Future<string, unknown>> = []
            for (const file of files) futures.push(yield* executor.submit(sleepOrAbort, file, 4_000))
            // 32 calls waiting: messages of 2 (a sixteenth), the two of sleepOrAbort together.
            for (let i = 0; i < 30; i++) yield* executor.submit(add, i, 1)
            yield* eventually(
              () => (files.every((file) => lines(file).includes("started")) ? true : undefined),
              "30 seconds",
              "the calls of the message starting"
            )
            const stopped = 1
            const payloads = runMessagesNaming(filename, files[0])
            expect(payloads).toHaveLength(1)
            for (const file of files) expect(payloads[0]).toContain(file)
            expect(yield* within(Future.interrupt(futures[stopped]), "10 seconds", "Future.interrupt")).toBe(true)
            expect(yield* Future.cancelled(futures[stopped])).toBe(true)
            expect(lines(files[stopped])).toContain("aborted")
            for (let i = 0; i < files.length; i++) {
              if (i === stopped) continue
              expect(yield* Future.done(futures[i])).toBe(false)
              expect(yield* resultWithin(futures[i], "a call of the message that was not stopped")).toBe("slept")
              expect(lines(files[i])).not.toContain("aborted")
            }
            expect(yield* resultWithin(first, "the first call")).toBe(2)
          })
        )
      })
  )

  it.effect("an interrupted scope interrupts every call of a message of several on its runner", () =>
    Effect.gen(function* () {
      const { dir, filename } = yield* Cluster
      const files = [0, 1].map((i) => join(dir, `batched-scope-${i}.txt`))
      const futures: Array<Future.Future<string, unknown>> = []
      const client = yield* Effect.forkChild(
        withOwnClient(filename, { maxInFlight: 64 }, (executor) =>
          Effect.gen(function* () {
            yield* Effect.yieldNow
            yield* executor.submit(add, 1, 1)
            for (const file of files) futures.push(yield* executor.submit(waitForAbort, file))
            for (let i = 0; i < 30; i++) yield* executor.submit(add, i, 1)
            return yield* Effect.never
          })
        )
      )
      const started = () => files.filter((file) => lines(file).includes("started"))
      yield* eventually(() => (started().length >= 2 ? true : undefined), "30 seconds", "the calls starting")
      const payloads = runMessagesNaming(filename, files[0])
      expect(payloads).toHaveLength(1)
      expect(payloads[0]).toContain(files[1])
      yield* within(Fiber.interrupt(client), "30 seconds", "the client's scope closing by interruption")
      for (const future of futures) expect(yield* Future.cancelled(future)).toBe(true)
      const running = started()
      yield* eventually(
        () => (running.every((file) => lines(file).includes("aborted")) ? true : undefined),
        "10 seconds",
        "the aborts arriving"
      )
    })
  )

  it.effect("an interrupted scope interrupts every map chunk of a message of several on its runner", () =>
    Effect.gen(function* () {
      const { dir, filename } = yield* Cluster
      const files = Array.from({ length: 40 }, (_, i) => join(dir, `map-scope-${i}.txt`))
      const client = yield* Effect.forkChild(
        withOwnClient(filename, { maxInFlight: 64 }, (executor) =>
          executor.map(waitForAbort, files, { chunksize: 1 }).pipe(Stream.runDrain)
        )
      )
      const started = () => files.filter((file) => lines(file).includes("started"))
      yield* eventually(() => (started().length >= 2 ? true : undefined), "30 seconds", "the chunks starting")
      // A message of several chunks: its payload names more than one file.
      const payloads = runMessagesNaming(filename, "map-scope-")
      expect(payloads.some((payload) => payload.split("map-scope-").length > 2)).toBe(true)
      yield* within(Fiber.interrupt(client), "30 seconds", "the client's scope closing by interruption")
      const running = started()
      yield* eventually(
        () => (running.every((file) => lines(file).includes("aborted")) ? true : undefined),
        "10 seconds",
        "the aborts arriving"
      )
    })
  )

  it.effect("cancels a call still waiting for room, which then never runs", () =>
    Effect.gen(function* () {
      const { dir, filename } = yield* Cluster
      const file = join(dir, "abort-pending.txt")
      yield* withOwnClient(filename, { maxInFlight: 1 }, (executor) =>
        Effect.gen(function* () {
          const first = yield* executor.submit(waitForAbort, file)
          const second = yield* executor.submit(add, 1, 1)
          expect(yield* Future.running(first)).toBe(true)
          expect(yield* Future.state(second)).toBe("PENDING")
          expect(yield* Future.cancel(second)).toBe(true)
          yield* eventually(() => (lines(file).includes("started") ? true : undefined), "30 seconds", "the first call")
          expect(yield* within(Future.interrupt(first), "10 seconds", "interrupting the first")).toBe(true)
          expect(yield* Future.state(second)).toBe("CANCELLED_AND_NOTIFIED")
        })
      )
    })
  )

  it.effect(
    "maxQueue with whenFull reject: a submit beyond it fails with QueueFull, and the queued call still runs",
    () =>
      Effect.gen(function* () {
        const { dir, filename } = yield* Cluster
        const file = join(dir, "hold-queue.txt")
        yield* withOwnClient(filename, { maxInFlight: 1, maxQueue: 1, whenFull: "reject" }, (executor) =>
          Effect.gen(function* () {
            const first = yield* executor.submit(waitForAbort, file)
            const queued = yield* executor.submit(add, 1, 1)
            const refused = yield* Effect.flip(executor.submit(add, 2, 2))
            expect(refused).toBeInstanceOf(QueueFull)
            expect((refused as QueueFull).kind).toBe("Cluster")
            yield* eventually(
              () => (lines(file).includes("started") ? true : undefined),
              "30 seconds",
              "the first call"
            )
            yield* within(Future.interrupt(first), "10 seconds", "interrupting the first")
            expect(yield* resultWithin(queued, "the queued call")).toBe(2)
          })
        )
      })
  )

  it.effect("maxQueue with whenFull suspend: the submit beyond it waits for room, then its call runs", () =>
    Effect.gen(function* () {
      const { dir, filename } = yield* Cluster
      const file = join(dir, "hold-suspend.txt")
      yield* withOwnClient(filename, { maxInFlight: 1, maxQueue: 1 }, (executor) =>
        Effect.gen(function* () {
          const first = yield* executor.submit(waitForAbort, file)
          const queued = yield* executor.submit(add, 1, 1)
          const waiting = yield* Effect.forkChild(executor.submit(add, 2, 2))
          yield* eventually(() => (lines(file).includes("started") ? true : undefined), "30 seconds", "the first call")
          expect(waiting.pollUnsafe()).toBeUndefined()
          yield* within(Future.interrupt(first), "10 seconds", "interrupting the first")
          const later = yield* within(Fiber.join(waiting), "30 seconds", "the suspended submit")
          expect(yield* resultWithin(queued, "the queued call")).toBe(2)
          expect(yield* resultWithin(later, "the call that waited for room")).toBe(4)
        })
      )
    })
  )

  it.effect("counts its calls in the executor metrics, and traces each call in a task span under the caller's", () =>
    Effect.gen(function* () {
      const { filename } = yield* Cluster
      const { layer: tracing, spans } = memoryTracer()
      const name = "ClusterExecutor-metrics"
      yield* withOwnClient(filename, { name }, (executor) =>
        Effect.gen(function* () {
          const ok = yield* executor.submit(add, 1, 2)
          const failed = yield* executor.submit(boom, "counted")
          expect(yield* resultWithin(ok, "add")).toBe(3)
          yield* awaitExit(failed, "30 seconds", "boom")
          const submitted = Metric.withAttributes(Observability.tasksSubmitted, Observability.attributes(executor))
          expect((yield* Metric.value(submitted)).count).toBe(2)
        }).pipe(Effect.withSpan("caller"), Effect.provide(tracing))
      )
      const caller = spans.find((span) => span.name === "caller")!
      const task = spans.find((span) => span.name === Observability.taskSpanName("add"))
      expect(task).toBeDefined()
      expect(task!.parent._tag === "Some" && task!.parent.value.spanId).toBe(caller.spanId)
      expect(task!.attributes.get(Observability.ExecutorKindAttribute)).toBe("Cluster")
      expect(task!.status._tag).toBe("Ended")
    })
  )

  it.effect("names a bad client option, its value and the rule", () =>
    Effect.gen(function* () {
      const { filename } = yield* Cluster
      for (const [options, message] of [
        [{ maxInFlight: 0 }, "ClusterExecutor: maxInFlight must be a whole number greater than 0, got 0"],
        [{ maxQueue: -1 }, "ClusterExecutor: maxQueue must be a whole number of pending tasks (0 or more), got -1"],
        [{ whenFull: "drop" }, 'ClusterExecutor: whenFull must be "suspend" or "reject", got "drop"'],
        [{ runnerTimeout: -5 }, "ClusterExecutor: runnerTimeout must be zero or more, got -5"]
      ] as const) {
        const error = yield* Effect.flip(withOwnClient(filename, options as ClusterExecutor.Options, () => Effect.void))
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect((error as Cause.IllegalArgumentError).message).toBe(message)
      }
    })
  )

  it.effect("submitWith: a timeout interrupts the task on its runner and fails with TimeoutError", () =>
    Effect.gen(function* () {
      const { dir } = yield* Cluster
      const file = join(dir, "timeout.txt")
      const future = yield* Executor.submitWith({ timeout: "2 seconds" })(waitForAbort, file)
      const exit = yield* awaitExit(future, "30 seconds", "a call with a timeout")
      expect(Cause.isTimeoutError(failureOf(exit))).toBe(true)
      yield* eventually(() => (lines(file).includes("aborted") ? true : undefined), "10 seconds", "the abort arriving")
    })
  )

  it.effect("submitWith: retries run a failed call again, on the cluster, until it succeeds", () =>
    Effect.gen(function* () {
      const { dir } = yield* Cluster
      const file = join(dir, "flaky.txt")
      const future = yield* Executor.submitWith({ retries: 3 })(flaky, file, 3)
      expect(yield* resultWithin(future, "a flaky call")).toBe(3)
      expect(lines(file)).toHaveLength(3)
    })
  )

  it.effect("submitWith: a higher priority is sent first among the calls waiting for room", () =>
    Effect.gen(function* () {
      const { dir, filename } = yield* Cluster
      const holder = join(dir, "hold-priority.txt")
      const order = join(dir, "priority.txt")
      yield* withOwnClient(filename, { maxInFlight: 1 }, (executor) =>
        Effect.gen(function* () {
          const first = yield* executor.submit(waitForAbort, holder)
          const low = yield* executor.submitWith({ priority: 0 })(record, order, 1, 0)
          const high = yield* executor.submitWith({ priority: 5 })(record, order, 2, 0)
          yield* eventually(
            () => (lines(holder).includes("started") ? true : undefined),
            "30 seconds",
            "the first call"
          )
          yield* within(Future.interrupt(first), "10 seconds", "interrupting the first")
          yield* resultWithin(low, "the low-priority call")
          yield* resultWithin(high, "the high-priority call")
          expect(lines(order).map((line) => line.split(" ")[1])).toEqual(["2", "1"])
        })
      )
    })
  )

  it.effect("shutdown waits for the calls out, then submit fails with ExecutorShutdownError", () =>
    Effect.gen(function* () {
      const { filename } = yield* Cluster
      yield* withOwnClient(filename, {}, (executor) =>
        Effect.gen(function* () {
          const futures = yield* Effect.forEach([1, 2, 3], (n) => executor.submit(add, n, 10))
          yield* within(executor.shutdown(), "30 seconds", "shutdown")
          for (const future of futures) expect(yield* Future.done(future)).toBe(true)
          expect(yield* Effect.forEach(futures, (f) => Future.result(f))).toEqual([11, 12, 13])
          const error = yield* Effect.flip(executor.submit(add, 1, 1))
          expect(error).toBeInstanceOf(ExecutorShutdownError)
        })
      )
    })
  )
})

describe("ClusterExecutor without runners", () => {
  it.live("fails a call with BrokenExecutor (kind Cluster) once runnerTimeout has passed with no runner", () =>
    Effect.gen(function* () {
      const { filename } = yield* clusterFolder
      const exit = yield* Effect.gen(function* () {
        const future = yield* Executor.submit(add, 1, 2)
        return yield* awaitExit(future, "10 seconds", "a call with no runner")
      }).pipe(Effect.provide(clientLayer({ filename }, { runnerTimeout: "500 millis" })))
      const error = failureOf(exit) as { _tag: string; kind: string; reason: string } | undefined
      expect(error?._tag).toBe("BrokenExecutor")
      expect(error?.kind).toBe("Cluster")
      expect(error?.reason).toContain("runnerTimeout")
    })
  )
})
