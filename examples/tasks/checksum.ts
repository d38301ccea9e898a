/**
 * The worker task of the `observability` example: a checksum that makes a
 * span of its own inside the worker. A task module has nothing but
 * definitions, since every worker imports it.
 */
import { createHash } from "node:crypto"
import { Effect } from "effect"
import * as Task from "../../src/Task.ts"

/**
 * The SHA-256 of `bytes` bytes of a file's (made-up) content. It returns an
 * Effect, so the worker runs it with the task span as its parent: the
 * `checksum.hash` span it makes is recorded in the worker and replayed into
 * the caller's tracer, in the caller's trace.
 */
export const checksum = Task.make(import.meta.url, "checksum", (file: string, bytes: number) =>
  Effect.sync(() => {
    const content = Buffer.alloc(bytes, file)
    return createHash("sha256").update(content).digest("hex")
  }).pipe(Effect.withSpan("checksum.hash", { attributes: { "file.name": file, "file.bytes": bytes } }))
)
