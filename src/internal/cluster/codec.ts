/**
 * How a Task's arguments, result and failures cross a cluster: as JSON, which
 * is what the cluster's transport and message storage carry. A Task with
 * Schemas for its arguments or result crosses through them (a `Date`, a `Map`
 * arrive as themselves); a value without one must be plain JSON that comes
 * back exactly as it was sent, or its future fails with `SerializationError`.
 * JSON alone would turn a `Date` into a string and a `Map` into `{}` without a
 * word: that is data loss, so it is refused.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Errors from "../../Errors.ts"
import { ExecutionFailed, SerializationError } from "../../Errors.ts"
import type { Task } from "../../Task.ts"

/** Where a Task made with `ClusterExecutor.withSchemas` keeps its Schemas. */
/** @internal */
export const SchemasKey = "~effect-futures/ClusterExecutor/schemas" as const

/** The Schemas a Task crosses a cluster with. */
/** @internal */
export interface TaskSchemas {
  /** The arguments, as one tuple (`Schema.Tuple([...])`). */
  readonly args?: Schema.Codec<any, any> | undefined
  /** The result. */
  readonly success?: Schema.Codec<any, any> | undefined
}

/** Where a Task made with `ClusterExecutor.onRunnerDeath` keeps its choice. */
/** @internal */
export const RunnerDeathKey = "~effect-futures/ClusterExecutor/onRunnerDeath" as const

/** What a call whose runner dies does: run again elsewhere, or fail with `WorkerDied`. */
/** @internal */
export type OnRunnerDeath = "rerun" | "fail"

/** The task's own choice, if it made one. */
/** @internal */
export const onRunnerDeathOf = (task: Task<any, any, any>): OnRunnerDeath | undefined =>
  (task as unknown as Record<string, unknown>)[RunnerDeathKey] as OnRunnerDeath | undefined

/** @internal */
export const schemasOf = (task: Task<any, any, any>): TaskSchemas =>
  ((task as unknown as Record<string, unknown>)[SchemasKey] as TaskSchemas | undefined) ?? {}

/** A JSON value: what crosses. */
/** @internal */
export type Json = Schema.Json

/** One call's arguments on the wire: JSON values, with the positions of top-level `undefined`s. */
/** @internal */
export type WireArgs =
  | { readonly values: ReadonlyArray<Json>; readonly undefinedAt?: ReadonlyArray<number> }
  | { readonly encoded: Json }

/** A thrown or failed `Error` on the wire: its name, message, stack and the fields that are plain JSON. */
/** @internal */
export interface WireError {
  readonly name: string
  readonly message: string
  readonly stack?: string
  readonly fields: { readonly [key: string]: Json }
}

/** One call's ending on the wire. */
/** @internal */
export type WireExit =
  /** `value` absent: the task returned `undefined`. */
  | { readonly _tag: "Success"; readonly value?: Json }
  /** A typed failure: through the task's error Schema, one of ours, an `Error`, or a plain JSON value. */
  | { readonly _tag: "Fail"; readonly via: "schema" | "known" | "error" | "value"; readonly error: Json }
  | { readonly _tag: "Die"; readonly defect: WireError | { readonly value: Json } }
  | { readonly _tag: "Interrupt" }

// -- plain JSON that round-trips exactly ---------------------------------------------------------

const typeName = (u: unknown): string =>
  u === null ? "null" : typeof u === "object" ? (u.constructor?.name ?? "Object") : typeof u

/**
 * Where `u` holds a value that JSON would not give back as it is, and what it
 * is; `undefined` when `u` crosses exactly. `undefined` itself is refused
 * (JSON drops it or makes it `null`); the caller allows it at the top level.
 */
/** @internal */
export const inexact = (u: unknown, path: string, seen: Set<object> = new Set()): string | undefined => {
  switch (typeof u) {
    case "string":
    case "boolean":
      return undefined
    case "number":
      if (!Number.isFinite(u)) return `${path} is ${u}, which JSON turns into null`
      if (Object.is(u, -0)) return `${path} is -0, which JSON turns into 0`
      return undefined
    case "undefined":
      return `${path} is undefined, which JSON drops or turns into null`
    case "bigint":
      return `${path} is a bigint, which JSON cannot hold`
    case "function":
      return `${path} is a function`
    case "symbol":
      return `${path} is a symbol`
  }
  if (u === null) return undefined
  const o = u as object
  if (seen.has(o)) return `${path} refers back to itself (a cycle)`
  const proto = Object.getPrototypeOf(o)
  if (Array.isArray(o)) {
    if (proto !== Array.prototype) return `${path} is a ${typeName(o)}`
    seen.add(o)
    if (Object.keys(o).length !== o.length) return `${path} is an array with holes or extra properties`
    for (let i = 0; i < o.length; i++) {
      const found = inexact(o[i], `${path}[${i}]`, seen)
      if (found !== undefined) return found
    }
    seen.delete(o)
    return undefined
  }
  if (proto !== Object.prototype && proto !== null) return `${path} is a ${typeName(o)}`
  if (Object.getOwnPropertySymbols(o).length > 0) return `${path} has symbol keys, which JSON drops`
  seen.add(o)
  for (const key of Object.keys(o)) {
    const descriptor = Object.getOwnPropertyDescriptor(o, key)!
    if (descriptor.get !== undefined) return `${path}.${key} is a getter`
    const found = inexact(descriptor.value, `${path}.${key}`, seen)
    if (found !== undefined) return found
  }
  seen.delete(o)
  return undefined
}

/** What a user can do about a value that does not cross. */
const advice = (direction: "argument" | "result") =>
  `give the Task a Schema for its ${direction === "argument" ? "arguments" : "result"} with ClusterExecutor.withSchemas, or pass plain JSON`

const describeError = (u: unknown): string => (u instanceof Error ? u.message : String(u))

/** Error reporting must not throw: a Proxy's traps can. */
const safely = <A>(f: () => A, orElse: A): A => {
  try {
    return f()
  } catch {
    return orElse
  }
}

const codecs = new WeakMap<object, Schema.Codec<unknown, unknown>>()

/** The JSON codec of a Schema, made once per Schema. */
const jsonCodec = (schema: Schema.Codec<any, any>): Schema.Codec<unknown, unknown> => {
  let codec = codecs.get(schema)
  if (codec === undefined) {
    codec = Schema.toCodecJson(schema) as Schema.Codec<unknown, unknown>
    codecs.set(schema, codec)
  }
  return codec
}

const encodeWith = (schema: Schema.Codec<any, any>, value: unknown): Json =>
  Schema.encodeUnknownSync(jsonCodec(schema))(value) as Json

const decodeWith = (schema: Schema.Codec<any, any>, json: unknown): unknown =>
  Schema.decodeUnknownSync(jsonCodec(schema))(json)

// -- arguments ------------------------------------------------------------------------------------

/** The client encodes one call's arguments, or says why they cannot cross. */
/** @internal */
export const encodeArgs = (task: Task<any, any, any>, args: ReadonlyArray<unknown>): WireArgs | SerializationError => {
  const schema = schemasOf(task).args
  if (schema !== undefined) {
    try {
      return { encoded: encodeWith(schema, args) }
    } catch (cause) {
      return new SerializationError({
        direction: "argument",
        valueType: `the arguments of ${task.name}`,
        detail: `they do not encode with the task's args Schema: ${describeError(cause)}`
      })
    }
  }
  const undefinedAt: Array<number> = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === undefined) {
      undefinedAt.push(i)
      continue
    }
    const found = safely(() => inexact(args[i], `argument ${i + 1}`), `argument ${i + 1} cannot be read`)
    if (found !== undefined) {
      return new SerializationError({
        direction: "argument",
        valueType: typeName(args[i]),
        detail: `${found}: it would not arrive on the runner as it was sent; ${advice("argument")}`
      })
    }
  }
  const values = args.map((a) => (a === undefined ? null : a)) as ReadonlyArray<Json>
  return undefinedAt.length === 0 ? { values } : { values, undefinedAt }
}

/** The runner decodes one call's arguments with its own copy of the task. */
/** @internal */
export const decodeArgs = (task: Task<any, any, any>, wire: WireArgs): ReadonlyArray<unknown> | SerializationError => {
  const schema = schemasOf(task).args
  if ("encoded" in wire) {
    if (schema === undefined) {
      return new SerializationError({
        direction: "argument",
        valueType: `the arguments of ${task.name}`,
        detail:
          "the caller encoded them with an args Schema, but the runner's task has none: deploy the same task module on both sides"
      })
    }
    try {
      return decodeWith(schema, wire.encoded) as ReadonlyArray<unknown>
    } catch (cause) {
      return new SerializationError({
        direction: "argument",
        valueType: `the arguments of ${task.name}`,
        detail: `they do not decode with the runner's args Schema: ${describeError(cause)}`
      })
    }
  }
  if (schema !== undefined) {
    return new SerializationError({
      direction: "argument",
      valueType: `the arguments of ${task.name}`,
      detail:
        "the runner's task has an args Schema but the caller's has none: deploy the same task module on both sides"
    })
  }
  if (wire.undefinedAt === undefined) return wire.values
  const args: Array<unknown> = wire.values.slice()
  for (const i of wire.undefinedAt) args[i] = undefined
  return args
}

// -- results and failures -----------------------------------------------------------------------

/** The errors of this library, which cross as themselves whatever the task's error Schema. */
const known = Schema.Union([
  Errors.BrokenExecutor,
  Errors.CancelledError,
  Errors.ExecutionFailed,
  Errors.QueueFull,
  Errors.SerializationError,
  Errors.UnknownTask,
  Errors.WorkerDied
])
const isKnown = Schema.is(known)

const encodeErrorObject = (error: Error): WireError => {
  const fields: Record<string, Json> = {}
  for (const key of Object.keys(error)) {
    if (key === "stack" || key === "message") continue
    const value = (error as unknown as Record<string, unknown>)[key]
    // A field that would not arrive exactly is left out rather than changed.
    if (safely(() => inexact(value, key), "unreadable") === undefined) fields[key] = value as Json
  }
  return error.stack === undefined
    ? { name: error.name, message: error.message, fields }
    : { name: error.name, message: error.message, stack: error.stack, fields }
}

/** Rebuilds a runner's error: same name, message and fields, with the runner's stack. */
const decodeErrorObject = (wire: WireError): Error => {
  const error = new Error(wire.message)
  Object.defineProperty(error, "name", { value: wire.name, writable: true, configurable: true })
  Object.assign(error, wire.fields)
  if (wire.stack !== undefined) error.stack = wire.stack
  return error
}

const encodeDefect = (u: unknown): WireExit =>
  u instanceof Error
    ? { _tag: "Die", defect: encodeErrorObject(u) }
    : safely(() => inexact(u, "the defect"), "unreadable") === undefined
      ? { _tag: "Die", defect: { value: u as Json } }
      : { _tag: "Die", defect: encodeErrorObject(new Error(safely(() => String(u), typeName(u)))) }

const serializationFailure = (error: SerializationError): WireExit => ({
  _tag: "Fail",
  via: "known",
  error: encodeWith(known, error)
})

/** A failure of this library's own, as it crosses. */
/** @internal */
export const encodeKnown = (error: unknown): WireExit => ({
  _tag: "Fail",
  via: "known",
  error: encodeWith(known, error)
})

/** The runner encodes how a call ended; a result or failure that cannot cross fails the call instead. */
/** @internal */
export const encodeExit = (task: Task<any, any, any>, exit: Exit.Exit<unknown, unknown>): WireExit => {
  if (Exit.isSuccess(exit)) {
    const value = exit.value
    const schema = schemasOf(task).success
    if (schema !== undefined) {
      try {
        return { _tag: "Success", value: encodeWith(schema, value) }
      } catch (cause) {
        return serializationFailure(
          new SerializationError({
            direction: "result",
            valueType: typeName(value),
            detail: `it does not encode with the task's success Schema: ${describeError(cause)}`
          })
        )
      }
    }
    if (value === undefined) return { _tag: "Success" }
    const found = safely(() => inexact(value, "the result"), "the result cannot be read")
    if (found !== undefined) {
      return serializationFailure(
        new SerializationError({
          direction: "result",
          valueType: typeName(value),
          detail: `${found}: it would not arrive at the caller as it was returned; ${advice("result")}`
        })
      )
    }
    return { _tag: "Success", value: value as Json }
  }
  const reasons = exit.cause.reasons
  const fail = reasons.find(Cause.isFailReason)
  if (fail !== undefined) {
    const error = fail.error
    if (isKnown(error)) return { _tag: "Fail", via: "known", error: encodeWith(known, error) }
    if (task.error !== undefined) {
      try {
        return { _tag: "Fail", via: "schema", error: encodeWith(task.error, error) }
      } catch (cause) {
        return encodeDefect(cause)
      }
    }
    if (error instanceof Error)
      return { _tag: "Fail", via: "error", error: encodeErrorObject(error) as unknown as Json }
    const found = safely(() => inexact(error, "the failure"), "the failure cannot be read")
    if (found === undefined) return { _tag: "Fail", via: "value", error: error as Json }
    return serializationFailure(
      new SerializationError({
        direction: "result",
        valueType: typeName(error),
        detail: `the task's typed failure: ${found}; give the Task an error Schema (Task.make's error option)`
      })
    )
  }
  const die = reasons.find(Cause.isDieReason)
  if (die !== undefined) return encodeDefect(die.defect)
  return { _tag: "Interrupt" }
}

/** A deep copy of a JSON value. */
const copyJson = (json: Json | undefined): Json | undefined => {
  if (json === null || typeof json !== "object") return json
  if (Array.isArray(json)) return json.map(copyJson) as Json
  const out: Record<string, Json> = {}
  for (const key of Object.keys(json)) out[key] = copyJson((json as Record<string, Json>)[key]) as Json
  return out
}

/** The caller decodes how a call ended with its own copy of the task. */
/** @internal */
export const decodeExit = (task: Task<any, any, any>, wire: WireExit): Exit.Exit<unknown, unknown> => {
  switch (wire._tag) {
    case "Success": {
      const schema = schemasOf(task).success
      // The caller gets a copy of its own: the engine keeps a reply it read from storage
      // referenced until its next read, which would keep the caller's result alive.
      if (schema === undefined) return Exit.succeed(copyJson(wire.value))
      try {
        return Exit.succeed(decodeWith(schema, wire.value))
      } catch (cause) {
        return Exit.fail(
          new SerializationError({
            direction: "result",
            valueType: `the result of ${task.name}`,
            detail: `it does not decode with the task's success Schema: ${describeError(cause)}`
          })
        )
      }
    }
    case "Fail": {
      switch (wire.via) {
        case "value":
          return Exit.fail(copyJson(wire.error))
        case "error":
          return Exit.fail(decodeErrorObject(wire.error as unknown as WireError))
        case "known":
          return Exit.fail(decodeWith(known, wire.error))
        case "schema":
          if (task.error === undefined) {
            return Exit.fail(
              new ExecutionFailed({
                name: "SchemaError",
                message: `the runner encoded a typed failure with ${task.name}'s error Schema, but the caller's task has none: deploy the same task module on both sides`
              })
            )
          }
          try {
            return Exit.fail(decodeWith(task.error, wire.error))
          } catch (cause) {
            return Exit.fail(
              new ExecutionFailed({
                name: "SchemaError",
                message: `the task's typed failure did not decode with its error Schema: ${describeError(cause)}`
              })
            )
          }
      }
      break
    }
    case "Die":
      return Exit.die("value" in wire.defect ? wire.defect.value : decodeErrorObject(wire.defect))
    case "Interrupt":
      return Exit.interrupt()
  }
  return Exit.die(new Error(`ClusterExecutor: a reply of unknown shape: ${JSON.stringify(wire)}`))
}
