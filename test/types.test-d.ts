/**
 * The inferred types of the public API, pinned, after p-limit's `index.test-d.ts`: a change to
 * an overload, a default type parameter or an error union shows up here as a type error.
 *
 * Not run by vitest (its `include` is `*.test.ts`): `npm run check`'s `tsc` checks this file, as
 * tsconfig.json includes test/, so a mismatch fails CI. The `describe`/`it` blocks only name the
 * expectations. A `// Known:` comment marks a type that is surprising but is what the API gives.
 */
import type { Cause, Exit, Layer, Option, Scope, Stream } from "effect"
import { Context, Effect, pipe, Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import {
  BrokenExecutor,
  CancelledError,
  type ExecutionFailed,
  Executor,
  type ExecutorKind,
  type ExecutorShutdownError,
  Future,
  InterpreterPoolExecutor,
  type InvalidStateError,
  ProcessPoolExecutor,
  type QueueFull,
  type SerializationError,
  Task,
  ThreadPoolExecutor,
  type UnobservedFailures,
  type WorkerDied
} from "../src/index.ts"

class Boom extends Schema.TaggedError<Boom>()("Boom", { code: Schema.Number }) {}
class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { key: Schema.String }) {}
class Db extends Context.Service<Db, { readonly query: (sql: string) => number }>()("test/Db") {}

declare const future: Future.Future<number, Boom>
declare const infallible: Future.Future<string>
declare const exit: Exit.Exit<number, Boom>
declare const mixed: ReadonlyArray<Future.Future<number, Boom> | Future.Future<string>>
declare const work: Effect.Effect<string, Boom, Db>
declare const executor: Executor.Service
declare const processPool: ProcessPoolExecutor.ProcessPoolExecutor

describe("Future", () => {
  it("Future<A, E> defaults E to never and is covariant in A and E", () => {
    expectTypeOf<Future.Future<number>>().toEqualTypeOf<Future.Future<number, never>>()
    expectTypeOf<Future.Future<number>>().toExtend<Future.Future<number, Boom>>()
    expectTypeOf<Future.Future<"a", Boom>>().toExtend<Future.Future<string, Boom | NotFound>>()
    expectTypeOf<Future.Future<number, Boom>>().not.toExtend<Future.Future<number>>()
    expectTypeOf<Future.Future<number>>().not.toExtend<Future.Future<string>>()
  })

  it("make and makeUnsafe take A and E", () => {
    expectTypeOf(Future.make<number, Boom>()).toEqualTypeOf<Effect.Effect<Future.Future<number, Boom>>>()
    expectTypeOf(Future.make<number>()).toEqualTypeOf<Effect.Effect<Future.Future<number>>>()
    expectTypeOf(Future.makeUnsafe<number, Boom>()).toEqualTypeOf<Future.Future<number, Boom>>()
  })

  it("isFuture narrows to Future<unknown, unknown>", () => {
    const u: unknown = future
    if (Future.isFuture(u)) expectTypeOf(u).toEqualTypeOf<Future.Future<unknown, unknown>>()
  })

  it("result fails with E and CancelledError, and TimeoutError only given options", () => {
    expectTypeOf(Future.result(future)).toEqualTypeOf<Effect.Effect<number, Boom | CancelledError>>()
    expectTypeOf(Future.result(future, { timeout: "1 second" })).toEqualTypeOf<
      Effect.Effect<number, Boom | CancelledError | Cause.TimeoutError>
    >()
    expectTypeOf(pipe(future, Future.result({ timeout: 5 }))).toEqualTypeOf<
      Effect.Effect<number, Boom | CancelledError | Cause.TimeoutError>
    >()
    expectTypeOf(future.pipe(Future.result({}))).toEqualTypeOf<
      Effect.Effect<number, Boom | CancelledError | Cause.TimeoutError>
    >()
    expectTypeOf(Future.result(infallible)).toEqualTypeOf<Effect.Effect<string, CancelledError>>()
  })

  it("result as a callback", () => {
    const futures = Effect.succeed(future)
    expectTypeOf(Effect.flatMap(futures, (f) => Future.result(f))).toEqualTypeOf<
      Effect.Effect<number, Boom | CancelledError>
    >()
    // Known: point-free, TS infers from the last overload, `(self, options)`, whose A and E it
    // cannot carry through flatMap, so both widen to unknown; write the lambda to keep them.
    expectTypeOf(Effect.flatMap(futures, Future.result)).toEqualTypeOf<Effect.Effect<unknown, unknown>>()
    expectTypeOf(futures.pipe(Effect.flatMap(Future.result))).toEqualTypeOf<Effect.Effect<unknown, unknown>>()
    // Known: point-free, exception's types come from its last overload, `(self, options)`, so
    // TimeoutError is in the error channel although no timeout can be given.
    expectTypeOf(Effect.flatMap(futures, Future.exception)).toEqualTypeOf<
      Effect.Effect<Option.Option<unknown>, CancelledError | Cause.TimeoutError>
    >()
    // await has one signature: point-free keeps the types.
    expectTypeOf(Effect.flatMap(futures, Future.await)).toEqualTypeOf<
      Effect.Effect<Exit.Exit<number, Boom | CancelledError>>
    >()
  })

  it("exception gives the failure as Option<unknown>", () => {
    // Known: `Option<E | unknown>` collapses to `Option<unknown>` (a defect may be there too), so
    // the task's E is not visible in the result.
    expectTypeOf(Future.exception(future)).toEqualTypeOf<Effect.Effect<Option.Option<unknown>, CancelledError>>()
    expectTypeOf(Future.exception(future, { timeout: "1 second" })).toEqualTypeOf<
      Effect.Effect<Option.Option<unknown>, CancelledError | Cause.TimeoutError>
    >()
    expectTypeOf(pipe(future, Future.exception({ timeout: "1 second" }))).toEqualTypeOf<
      Effect.Effect<Option.Option<unknown>, CancelledError | Cause.TimeoutError>
    >()
  })

  it("await never fails and gives the Exit with CancelledError", () => {
    expectTypeOf(Future.await(future)).toEqualTypeOf<Effect.Effect<Exit.Exit<number, Boom | CancelledError>>>()
    expectTypeOf(Future.await(infallible)).toEqualTypeOf<Effect.Effect<Exit.Exit<string, CancelledError>>>()
  })

  it("cancel, interrupt and the getters give booleans and states that never fail", () => {
    expectTypeOf(Future.cancel(future)).toEqualTypeOf<Effect.Effect<boolean>>()
    expectTypeOf(Future.interrupt(future)).toEqualTypeOf<Effect.Effect<boolean>>()
    expectTypeOf(Future.done(future)).toEqualTypeOf<Effect.Effect<boolean>>()
    expectTypeOf(Future.cancelled(future)).toEqualTypeOf<Effect.Effect<boolean>>()
    expectTypeOf(Future.running(future)).toEqualTypeOf<Effect.Effect<boolean>>()
    expectTypeOf(Future.state(future)).toEqualTypeOf<Effect.Effect<Future.State>>()
    expectTypeOf<Future.State>().toEqualTypeOf<
      "PENDING" | "RUNNING" | "CANCELLED" | "CANCELLED_AND_NOTIFIED" | "FINISHED"
    >()
    expectTypeOf(Effect.forEach([future], Future.cancel)).toEqualTypeOf<Effect.Effect<Array<boolean>>>()
  })

  it("yield* future in Effect.gen is result", () => {
    const program = Effect.gen(function* () {
      return yield* future
    })
    expectTypeOf(program).toEqualTypeOf<Effect.Effect<number, Boom | CancelledError>>()
  })

  it("the executor-author operations fail with InvalidStateError, in both dual forms", () => {
    expectTypeOf(Future.setRunningOrNotifyCancel(future)).toEqualTypeOf<Effect.Effect<boolean, InvalidStateError>>()
    expectTypeOf(Future.setResult(future, 1)).toEqualTypeOf<Effect.Effect<void, InvalidStateError>>()
    expectTypeOf(pipe(future, Future.setResult(1))).toEqualTypeOf<Effect.Effect<void, InvalidStateError>>()
    expectTypeOf(Future.setException(future, new Boom({ code: 1 }))).toEqualTypeOf<
      Effect.Effect<void, InvalidStateError>
    >()
    expectTypeOf(pipe(future, Future.setException(new Boom({ code: 1 })))).toEqualTypeOf<
      Effect.Effect<void, InvalidStateError>
    >()
    expectTypeOf(Future.setExit(future, exit)).toEqualTypeOf<Effect.Effect<void, InvalidStateError>>()
    expectTypeOf(pipe(future, Future.setExit(exit))).toEqualTypeOf<Effect.Effect<void, InvalidStateError>>()
    // @ts-expect-error a result of the wrong type
    Future.setResult(future, "one")
    // @ts-expect-error a failure outside E
    Future.setException(future, new NotFound({ key: "k" }))
  })

  it("addDoneCallback needs what its callback needs", () => {
    expectTypeOf(Future.addDoneCallback(future, () => {})).toEqualTypeOf<Effect.Effect<void>>()
    expectTypeOf(Future.addDoneCallback(future, () => Db)).toEqualTypeOf<Effect.Effect<void, never, Db>>()
    expectTypeOf(
      pipe(
        future,
        Future.addDoneCallback((f) => {
          expectTypeOf(f).toEqualTypeOf<Future.Future<number, Boom>>()
        })
      )
    ).toEqualTypeOf<Effect.Effect<void>>()
  })

  it("wait partitions the futures it is given, keeping their types", () => {
    expectTypeOf(Future.wait(mixed)).toEqualTypeOf<
      Effect.Effect<Future.DoneAndNotDone<Future.Future<number, Boom> | Future.Future<string>>>
    >()
    expectTypeOf(
      Future.wait([future, future], { timeout: "1 second", returnWhen: Future.FIRST_EXCEPTION })
    ).toEqualTypeOf<Effect.Effect<Future.DoneAndNotDone<Future.Future<number, Boom>>>>()
    expectTypeOf<Future.DoneAndNotDone<Future.Future<number>>>().toEqualTypeOf<{
      readonly done: ReadonlySet<Future.Future<number>>
      readonly notDone: ReadonlySet<Future.Future<number>>
    }>()
    expectTypeOf<Future.ReturnWhen>().toEqualTypeOf<"FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED">()
    expectTypeOf(Future.FIRST_COMPLETED).toEqualTypeOf<"FIRST_COMPLETED">()
    expectTypeOf(Future.FIRST_EXCEPTION).toEqualTypeOf<"FIRST_EXCEPTION">()
    expectTypeOf(Future.ALL_COMPLETED).toEqualTypeOf<"ALL_COMPLETED">()
    // @ts-expect-error only futures
    Future.wait([1])
    // @ts-expect-error not a ReturnWhen
    Future.wait(mixed, { returnWhen: "ANY" })
  })

  it("asCompleted streams the futures, failing only with TimeoutError", () => {
    expectTypeOf(Future.asCompleted([future])).toEqualTypeOf<
      Stream.Stream<Future.Future<number, Boom>, Cause.TimeoutError>
    >()
    expectTypeOf(Future.asCompleted(new Set([future, infallible]), { timeout: "1 minute" })).toEqualTypeOf<
      Stream.Stream<Future.Future<number, Boom> | Future.Future<string>, Cause.TimeoutError>
    >()
  })

  it("progress streams what the caller says the task reports", () => {
    expectTypeOf(Future.progress(future)).toEqualTypeOf<Stream.Stream<unknown>>()
    expectTypeOf(Future.progress<{ done: number }>(future)).toEqualTypeOf<Stream.Stream<{ done: number }>>()
  })
})

// Tasks of each shape: never run here, only their types matter.
const add = Task.make(import.meta.url, "add", (a: number, b: number) => a + b)
const fetchLength = Task.make(import.meta.url, "fetchLength", async (url: string) => url.length)
const lookup = Task.make(import.meta.url, "lookup", (key: string) => Effect.fail(new NotFound({ key })), {
  error: NotFound
})
const parse = Task.make(
  import.meta.url,
  "parse",
  (text: string): Effect.Effect<number, Boom | NotFound> => Effect.succeed(text.length),
  { error: Schema.Union([Boom, NotFound]) }
)

describe("Task", () => {
  it("make infers the arguments, the result and the error from the function", () => {
    expectTypeOf(add).toEqualTypeOf<Task.Task<[a: number, b: number], number>>()
    expectTypeOf(add).toEqualTypeOf<Task.Task<[number, number], number, never>>()
    expectTypeOf(fetchLength).toEqualTypeOf<Task.Task<[url: string], number>>()
    expectTypeOf(lookup).toEqualTypeOf<Task.Task<[key: string], never, NotFound>>()
    expectTypeOf(parse).toEqualTypeOf<Task.Task<[text: string], number, Boom | NotFound>>()
    expectTypeOf(Task.make(import.meta.url, "none", () => Effect.void)).toEqualTypeOf<Task.Task<[], void>>()
  })

  it("the error schema must decode to the function's error", () => {
    // @ts-expect-error an error schema for a task that has no typed failure
    Task.make(import.meta.url, "bad", (n: number) => n, { error: NotFound })
    // @ts-expect-error NotFound's schema for a task that fails with Boom
    Task.make(import.meta.url, "bad", (code: number) => Effect.fail(new Boom({ code })), { error: NotFound })
    expectTypeOf(parse.error).toEqualTypeOf<Schema.Codec<Boom | NotFound, unknown> | undefined>()
    expectTypeOf(parse.fn).toEqualTypeOf<
      (text: string) => number | PromiseLike<number> | Effect.Effect<number, Boom | NotFound>
    >()
    expectTypeOf(parse.module).toEqualTypeOf<string>()
    expectTypeOf(parse.name).toEqualTypeOf<string>()
  })

  it("Task is contravariant in its arguments and covariant in A and E", () => {
    expectTypeOf<Task.Task<[number | string], 1>>().toExtend<Task.Task<[number], number, Boom>>()
    expectTypeOf<Task.Task<[number], number>>().not.toExtend<Task.Task<[number | string], number>>()
    expectTypeOf<Task.Task<[], number, Boom>>().not.toExtend<Task.Task<[], number>>()
  })

  it("isTask narrows to a Task of unknowns", () => {
    const u: unknown = add
    if (Task.isTask(u)) expectTypeOf(u).toEqualTypeOf<Task.Task<ReadonlyArray<unknown>, unknown, unknown>>()
  })

  it("transfer keeps the value's type; signal and progress are for the running task", () => {
    const data = new Float64Array(8)
    expectTypeOf(Task.transfer(data, [data.buffer])).toEqualTypeOf<typeof data>()
    expectTypeOf(Task.signal()).toEqualTypeOf<AbortSignal | undefined>()
    expectTypeOf(Task.progress({ done: 1 })).toEqualTypeOf<boolean>()
  })
})

type SubmitError = ExecutorShutdownError | BrokenExecutor | QueueFull
type MapError = Cause.TimeoutError | BrokenExecutor | ExecutorShutdownError | Cause.IllegalArgumentError

describe("Executor", () => {
  it("submit with a function, a Promise-returning function, an Effect-returning function", () => {
    expectTypeOf<Executor.SubmitError>().toEqualTypeOf<SubmitError>()
    expectTypeOf(Executor.submit((a: number, b: number) => a + b, 1, 2)).toEqualTypeOf<
      Effect.Effect<Future.Future<number, BrokenExecutor>, SubmitError, Executor.Executor>
    >()
    expectTypeOf(Executor.submit(() => "x")).toEqualTypeOf<
      Effect.Effect<Future.Future<string, BrokenExecutor>, SubmitError, Executor.Executor>
    >()
    expectTypeOf(Executor.submit(async (url: string) => url.length, "u")).toEqualTypeOf<
      Effect.Effect<Future.Future<number, BrokenExecutor>, SubmitError, Executor.Executor>
    >()
    const query = (sql: string): Effect.Effect<number, Boom, Db> => Effect.map(Db, (db) => db.query(sql))
    expectTypeOf(Executor.submit(query, "select 1")).toEqualTypeOf<
      Effect.Effect<Future.Future<number, Boom | BrokenExecutor>, SubmitError, Db | Executor.Executor>
    >()
    // @ts-expect-error an argument of the wrong type
    Executor.submit((a: number, b: number) => a + b, 1, "2")
    // @ts-expect-error an argument missing
    Executor.submit((a: number, b: number) => a + b, 1)
  })

  it("submit with an Effect keeps its error and its services", () => {
    expectTypeOf(Executor.submit(work)).toEqualTypeOf<
      Effect.Effect<Future.Future<string, Boom | BrokenExecutor>, SubmitError, Db | Executor.Executor>
    >()
    expectTypeOf(Executor.submit(Effect.succeed(1))).toEqualTypeOf<
      Effect.Effect<Future.Future<number, BrokenExecutor>, SubmitError, Executor.Executor>
    >()
  })

  it("submit with a Task adds the worker boundary's errors to the task's own", () => {
    expectTypeOf(Executor.submit(add, 1, 2)).toEqualTypeOf<
      Effect.Effect<
        Future.Future<number, BrokenExecutor | SerializationError | WorkerDied>,
        SubmitError,
        Executor.Executor
      >
    >()
    expectTypeOf(Executor.submit(lookup, "k")).toEqualTypeOf<
      Effect.Effect<
        Future.Future<never, NotFound | BrokenExecutor | SerializationError | WorkerDied>,
        SubmitError,
        Executor.Executor
      >
    >()
    expectTypeOf(Executor.submit(parse, "1")).toEqualTypeOf<
      Effect.Effect<
        Future.Future<number, Boom | NotFound | BrokenExecutor | SerializationError | WorkerDied>,
        SubmitError,
        Executor.Executor
      >
    >()
    // @ts-expect-error a Task's arguments are checked too
    Executor.submit(add, 1, "2")
  })

  it("submitWith adds TimeoutError to the future's error", () => {
    const submitWith = Executor.submitWith({ priority: 1, timeout: "1 second", retries: 2 })
    expectTypeOf(submitWith).toEqualTypeOf<Executor.SubmitWith<Executor.Executor>>()
    expectTypeOf(submitWith((n: number) => n, 1)).toEqualTypeOf<
      Effect.Effect<Future.Future<number, BrokenExecutor | Cause.TimeoutError>, SubmitError, Executor.Executor>
    >()
    expectTypeOf(submitWith(async () => "x")).toEqualTypeOf<
      Effect.Effect<Future.Future<string, BrokenExecutor | Cause.TimeoutError>, SubmitError, Executor.Executor>
    >()
    expectTypeOf(submitWith(work)).toEqualTypeOf<
      Effect.Effect<
        Future.Future<string, Boom | BrokenExecutor | Cause.TimeoutError>,
        SubmitError,
        Db | Executor.Executor
      >
    >()
    expectTypeOf(submitWith(parse, "1")).toEqualTypeOf<
      Effect.Effect<
        Future.Future<number, Boom | NotFound | BrokenExecutor | SerializationError | WorkerDied | Cause.TimeoutError>,
        SubmitError,
        Executor.Executor
      >
    >()
    // Known: SubmitWith does not depend on the options given, so TimeoutError is in the future's
    // error even without a `timeout`.
    expectTypeOf(Executor.submitWith({ priority: 1 })((n: number) => n, 1)).toEqualTypeOf<
      Effect.Effect<Future.Future<number, BrokenExecutor | Cause.TimeoutError>, SubmitError, Executor.Executor>
    >()
    // @ts-expect-error not a SubmitOptions field
    Executor.submitWith({ priorty: 1 })
  })

  it("map streams the results, with one iterable, several, and options last", () => {
    expectTypeOf<Executor.MapError>().toEqualTypeOf<MapError>()
    expectTypeOf(Executor.map((n: number) => n * 2, [1, 2, 3])).toEqualTypeOf<
      Stream.Stream<number, MapError, Executor.Executor>
    >()
    expectTypeOf(Executor.map((a: number, b: string) => b.repeat(a), [1, 2], new Set(["x"]))).toEqualTypeOf<
      Stream.Stream<string, MapError, Executor.Executor>
    >()
    expectTypeOf(
      Executor.map((a: number, b: string) => b.repeat(a), [1, 2], ["x"], { timeout: "1 second", buffersize: 4 })
    ).toEqualTypeOf<Stream.Stream<string, MapError, Executor.Executor>>()
    expectTypeOf(Executor.map(async (n: number) => n, [1], { chunksize: 2 })).toEqualTypeOf<
      Stream.Stream<number, MapError, Executor.Executor>
    >()
    const query = (sql: string): Effect.Effect<number, Boom, Db> => Effect.map(Db, (db) => db.query(sql))
    expectTypeOf(Executor.map(query, ["select 1"])).toEqualTypeOf<
      Stream.Stream<number, Boom | MapError, Db | Executor.Executor>
    >()
    expectTypeOf(Executor.map(parse, ["1", "2"], { timeout: 100 })).toEqualTypeOf<
      Stream.Stream<number, Boom | NotFound | MapError | SerializationError | WorkerDied, Executor.Executor>
    >()
    expectTypeOf(Executor.map(add, [1], [2])).toEqualTypeOf<
      Stream.Stream<number, MapError | SerializationError | WorkerDied, Executor.Executor>
    >()
    // No iterables zip to no calls, as in Python: an empty stream.
    expectTypeOf(Executor.map(() => 1)).toEqualTypeOf<Stream.Stream<number, MapError, Executor.Executor>>()
    // @ts-expect-error an iterable for each argument
    Executor.map((n: number) => n)
    // @ts-expect-error an iterable of the wrong element type
    Executor.map((n: number) => n, ["1"])
    // @ts-expect-error a Task's iterables are checked too
    Executor.map(add, [1], ["2"])
    // @ts-expect-error not a MapOptions field
    Executor.map((n: number) => n, [1], { timeot: 1 })
  })

  it("the service's operations need nothing from context but what the task needs", () => {
    expectTypeOf(executor.kind).toEqualTypeOf<ExecutorKind>()
    expectTypeOf(executor.name).toEqualTypeOf<string>()
    expectTypeOf(executor.submit((n: number) => n, 1)).toEqualTypeOf<
      Effect.Effect<Future.Future<number, BrokenExecutor>, SubmitError>
    >()
    expectTypeOf(executor.submit(parse, "1")).toEqualTypeOf<
      Effect.Effect<
        Future.Future<number, Boom | NotFound | BrokenExecutor | SerializationError | WorkerDied>,
        SubmitError
      >
    >()
    expectTypeOf(executor.submitWith({ signal: new AbortController().signal })).toEqualTypeOf<Executor.SubmitWith>()
    expectTypeOf(executor.map((n: number) => n, [1])).toEqualTypeOf<Stream.Stream<number, MapError>>()
    expectTypeOf(executor.shutdown({ wait: false, cancelFutures: true })).toEqualTypeOf<Effect.Effect<void>>()
    expectTypeOf(Executor.shutdown()).toEqualTypeOf<Effect.Effect<void, never, Executor.Executor>>()
    expectTypeOf(Effect.flatMap(Executor.Executor, (e) => e.submit(add, 1, 2))).toEqualTypeOf<
      Effect.Effect<
        Future.Future<number, BrokenExecutor | SerializationError | WorkerDied>,
        SubmitError,
        Executor.Executor
      >
    >()
  })

  it("Success, Failure and Services read a function's return type", () => {
    expectTypeOf<Executor.Success<Promise<number>>>().toEqualTypeOf<number>()
    expectTypeOf<Executor.Success<Effect.Effect<string, Boom>>>().toEqualTypeOf<string>()
    expectTypeOf<Executor.Success<boolean>>().toEqualTypeOf<boolean>()
    expectTypeOf<Executor.Failure<Effect.Effect<string, Boom>>>().toEqualTypeOf<Boom>()
    expectTypeOf<Executor.Failure<Promise<string>>>().toEqualTypeOf<never>()
    expectTypeOf<Executor.Services<Effect.Effect<string, never, Db>>>().toEqualTypeOf<Db>()
    expectTypeOf<Executor.Services<string>>().toEqualTypeOf<never>()
  })
})

describe("pools", () => {
  it("each pool's layer provides Executor and fails with IllegalArgumentError (worker pools: or BrokenExecutor, with prestart)", () => {
    expectTypeOf(ThreadPoolExecutor.layer()).toEqualTypeOf<Layer.Layer<Executor.Executor, Cause.IllegalArgumentError>>()
    expectTypeOf(InterpreterPoolExecutor.layer({ maxWorkers: 2 })).toEqualTypeOf<
      Layer.Layer<Executor.Executor, Cause.IllegalArgumentError | BrokenExecutor>
    >()
    expectTypeOf(ProcessPoolExecutor.layer({ maxWorkers: 2 })).toEqualTypeOf<
      Layer.Layer<Executor.Executor, Cause.IllegalArgumentError | BrokenExecutor>
    >()
  })

  it("a thread pool's Effect initializer's services are the layer's", () => {
    expectTypeOf(ThreadPoolExecutor.layer({ initializer: Effect.asVoid(Db) })).toEqualTypeOf<
      Layer.Layer<Executor.Executor, Cause.IllegalArgumentError, Db>
    >()
    expectTypeOf(ThreadPoolExecutor.make({ initializer: Effect.asVoid(Db) })).toEqualTypeOf<
      Effect.Effect<Executor.Service, Cause.IllegalArgumentError, Db | Scope.Scope>
    >()
    expectTypeOf(ThreadPoolExecutor.layer({ initializer: add, initargs: [1, 2] })).toEqualTypeOf<
      Layer.Layer<Executor.Executor, Cause.IllegalArgumentError>
    >()
  })

  it("each pool's make needs a Scope", () => {
    expectTypeOf(ThreadPoolExecutor.make()).toEqualTypeOf<
      Effect.Effect<Executor.Service, Cause.IllegalArgumentError, Scope.Scope>
    >()
    expectTypeOf(InterpreterPoolExecutor.make()).toEqualTypeOf<
      Effect.Effect<
        InterpreterPoolExecutor.InterpreterPoolExecutor,
        Cause.IllegalArgumentError | BrokenExecutor,
        Scope.Scope
      >
    >()
    expectTypeOf(ProcessPoolExecutor.make()).toEqualTypeOf<
      Effect.Effect<ProcessPoolExecutor.ProcessPoolExecutor, Cause.IllegalArgumentError | BrokenExecutor, Scope.Scope>
    >()
    expectTypeOf<InterpreterPoolExecutor.InterpreterPoolExecutor>().toExtend<Executor.Service>()
    expectTypeOf<ProcessPoolExecutor.ProcessPoolExecutor>().toExtend<Executor.Service>()
  })

  it("ProcessPoolExecutor adds terminateWorkers and killWorkers", () => {
    expectTypeOf(processPool.terminateWorkers).toEqualTypeOf<() => Effect.Effect<void>>()
    expectTypeOf(processPool.killWorkers).toEqualTypeOf<() => Effect.Effect<void>>()
    expectTypeOf<Executor.Service>().not.toHaveProperty("terminateWorkers")
  })

  it("worker pools take only Tasks as initializers", () => {
    // @ts-expect-error a plain function cannot be imported by a worker
    InterpreterPoolExecutor.layer({ initializer: () => undefined })
    // @ts-expect-error a plain function cannot be imported by a worker
    ProcessPoolExecutor.layer({ initializer: () => undefined })
  })

  it("InterpreterPoolExecutor.shared gives the shape the caller names", () => {
    expectTypeOf(InterpreterPoolExecutor.shared()).toEqualTypeOf<Readonly<Record<string, unknown>>>()
    expectTypeOf(InterpreterPoolExecutor.shared<{ counter: SharedArrayBuffer }>()).toEqualTypeOf<{
      counter: SharedArrayBuffer
    }>()
  })
})

describe("errors", () => {
  it("each error has its _tag and fields", () => {
    expectTypeOf<CancelledError["_tag"]>().toEqualTypeOf<"CancelledError">()
    expectTypeOf<InvalidStateError["_tag"]>().toEqualTypeOf<"InvalidStateError">()
    expectTypeOf<ExecutorShutdownError["_tag"]>().toEqualTypeOf<"ExecutorShutdownError">()
    expectTypeOf<BrokenExecutor["_tag"]>().toEqualTypeOf<"BrokenExecutor">()
    expectTypeOf<ExecutionFailed["_tag"]>().toEqualTypeOf<"ExecutionFailed">()
    expectTypeOf<SerializationError["_tag"]>().toEqualTypeOf<"SerializationError">()
    expectTypeOf<QueueFull["_tag"]>().toEqualTypeOf<"QueueFull">()
    expectTypeOf<UnobservedFailures["_tag"]>().toEqualTypeOf<"UnobservedFailures">()
    expectTypeOf<WorkerDied["_tag"]>().toEqualTypeOf<"WorkerDied">()

    expectTypeOf<ExecutorKind>().toEqualTypeOf<"ThreadPool" | "InterpreterPool" | "ProcessPool" | "Cluster">()
    expectTypeOf<BrokenExecutor["kind"]>().toEqualTypeOf<ExecutorKind>()
    expectTypeOf<BrokenExecutor["reason"]>().toEqualTypeOf<string>()
    expectTypeOf<BrokenExecutor["cause"]>().toEqualTypeOf<unknown>()
    expectTypeOf<BrokenExecutor["message"]>().toEqualTypeOf<string>()
    expectTypeOf<SerializationError["direction"]>().toEqualTypeOf<"argument" | "result">()
    expectTypeOf<SerializationError["valueType"]>().toEqualTypeOf<string>()
    expectTypeOf<QueueFull["kind"]>().toEqualTypeOf<ExecutorKind>()
    expectTypeOf<QueueFull["maxQueue"]>().toEqualTypeOf<number>()
    expectTypeOf<UnobservedFailures["count"]>().toEqualTypeOf<number>()
    expectTypeOf<WorkerDied["kind"]>().toEqualTypeOf<"InterpreterPool" | "ProcessPool" | "Cluster">()
    expectTypeOf<WorkerDied["exitCode"]>().toEqualTypeOf<number | null>()
    expectTypeOf<WorkerDied["signal"]>().toEqualTypeOf<string | null>()
    expectTypeOf<ExecutionFailed["remoteStack"]>().toEqualTypeOf<string | undefined>()
  })

  it("errors are yieldable and caught by tag", () => {
    const program = Effect.gen(function* () {
      return yield* new BrokenExecutor({ kind: "ThreadPool", reason: "initializer failed" })
    })
    expectTypeOf(program).toEqualTypeOf<Effect.Effect<never, BrokenExecutor>>()
    const submitted: Effect.Effect<number, SubmitError> = Effect.succeed(1)
    expectTypeOf(
      Effect.catchTag(submitted, "BrokenExecutor", (e) => {
        expectTypeOf(e).toEqualTypeOf<BrokenExecutor>()
        return Effect.succeed(e.kind)
      })
    ).toEqualTypeOf<Effect.Effect<number | ExecutorKind, ExecutorShutdownError | QueueFull>>()
    // @ts-expect-error not an ExecutorKind
    new BrokenExecutor({ kind: "Thread", reason: "initializer failed" })
    expectTypeOf(new CancelledError({ message: "cancelled" })).toExtend<Error>()
  })
})
