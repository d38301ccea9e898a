/**
 * The messages between a pool and its workers (`wire.ts`, re-exported here),
 * and the part of how a task's outcome crosses that needs Schema: typed
 * failures through the task's error Schema, and the parent's rebuilding of
 * every outcome. The parent loads this module; a worker loads it only when a
 * task with an error Schema fails, to encode that failure.
 *
 * @internal
 */
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { ExecutionFailed, SerializationError } from "../Errors.ts"
import type { Task } from "../Task.ts"
import { decodeDefect, encodeDefect, unclonableDetail, type WireDefect, type WireExit } from "./wire.ts"

export * from "./wire.ts"

const codecs = new WeakMap<object, Schema.Codec<unknown, unknown>>()

const jsonCodec = (schema: Schema.Codec<unknown, unknown>): Schema.Codec<unknown, unknown> => {
  let codec = codecs.get(schema)
  if (codec === undefined) {
    codec = Schema.toCodecJson(schema as Schema.Codec<unknown, unknown>) as Schema.Codec<unknown, unknown>
    codecs.set(schema, codec)
  }
  return codec
}

/**
 * The wire form of a typed failure of a task with an error Schema, in the worker: encoded
 * through the Schema, or, when the Schema refuses it, the defect it is.
 */
/** @internal */
export const encodeTypedFailure = (schema: Schema.Codec<unknown, unknown>, error: unknown): WireExit => {
  try {
    return { _tag: "Fail", error: Schema.encodeSync(jsonCodec(schema))(error), via: "schema" }
  } catch {
    // Not one of the task's declared failures: the parent sees it as the defect it is.
    return { _tag: "Die", defect: encodeDefect(error) }
  }
}

/** The parent's view of a task's ending. */
/** @internal */
export const decodeExit = (task: Task<any, any, any> | undefined, wire: WireExit): Exit.Exit<unknown, unknown> => {
  switch (wire._tag) {
    case "Success":
      return Exit.succeed(wire.value)
    case "Fail": {
      if (wire.via === "value") return Exit.fail(wire.error)
      if (wire.via === "error") return Exit.fail(decodeDefect(wire.error as WireDefect))
      try {
        return Exit.fail(Schema.decodeUnknownSync(jsonCodec(task!.error!))(wire.error))
      } catch (cause) {
        return Exit.fail(
          new ExecutionFailed({
            name: "SchemaError",
            message: `the task's typed failure could not be decoded with its error schema: ${String(cause)}`
          })
        )
      }
    }
    case "Die":
      return Exit.die(decodeDefect(wire.defect))
    case "Interrupt":
      return Exit.interrupt()
    case "Unclonable":
      return Exit.fail(new SerializationError({ direction: "result", valueType: wire.valueType, detail: wire.detail }))
  }
}

/** The `SerializationError` for a value that could not be posted. */
/** @internal */
export const unclonable = (
  direction: "argument" | "result",
  value: unknown,
  path: string,
  cause: unknown
): SerializationError => new SerializationError({ direction, ...unclonableDetail(value, path, cause) })
