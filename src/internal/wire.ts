/**
 * The messages between a pool and its workers, and the wire forms of what
 * crosses: values by structured clone, defects as name, message and the
 * worker's stack (Python's `_RemoteTraceback`). This is all a worker loads of
 * the protocol: no Effect, no Schema, so a worker that runs plain functions
 * starts without them. The parent's side (`protocol.ts`) adds how typed
 * failures are rebuilt.
 *
 * @internal
 */
import * as WorkerThreads from "node:worker_threads"
import type { WireParent, WireSpan } from "./remoteSpans.ts"

/**
 * How a worker thread hears of calls: a port of its own and a doorbell, a shared counter the pool
 * bumps after each message. An idle worker sleeps on the doorbell (`Atomics.wait`) and reads the
 * port synchronously, which wakes it sooner than its event loop would.
 */
/** @internal */
export interface Doorbell {
  readonly port: WorkerThreads.MessagePort
  readonly bell: Int32Array
}

/** Where a thread's `workerData` carries its doorbell. */
/** @internal */
export const doorbellKey = "~effect-futures/doorbell"

/**
 * What a pool worker tells code that runs in it, through a global (a bundled program may hold
 * several copies of this library): how deeply nested it is, and whether it is importing a task
 * module or running a call. A pool refuses to start where starting it could spawn workers without
 * end: while a worker imports a task module (a module whose import starts a pool would start one
 * in every worker, each importing it again), outside a running call, or nested too deep.
 */
/** @internal */
export interface WorkerSite {
  /** 1 in a pool's worker, 2 in a worker of a pool started by a task in a worker, ... */
  readonly depth: number
  readonly importing: () => boolean
  readonly running: () => boolean
  /** Why a pool was refused here, for the worker to report if the refusal kills it. */
  refused: unknown
}

/** Where a worker keeps its `WorkerSite` on `globalThis`. */
/** @internal */
export const workerSiteKey = "~effect-futures/workerSite"

/** How a worker learns its depth: `workerData[depthKey]` in a thread, this environment variable in a process. */
/** @internal */
export const depthKey = "EFFECT_FUTURES_WORKER_DEPTH"

/**
 * Set in a child process's environment when its parent's guard (`childGuard.ts`) kills it with
 * the parent: the child then needs no watch of its own. The child removes it at once.
 */
/** @internal */
export const guardedKey = "EFFECT_FUTURES_PARENT_GUARD"

/** This worker's site, or `undefined` outside a pool's worker. */
/** @internal */
export const workerSite = (): WorkerSite | undefined => (globalThis as any)[workerSiteKey] as WorkerSite | undefined

/** One call of a task; with `chunk`, `args` is a list of argument lists and the result a list. */
/** @internal */
export interface Call {
  readonly id: number
  readonly module: string
  readonly name: string
  readonly args: ReadonlyArray<unknown>
  readonly chunk: boolean
  /** The task span, when the caller traces: the worker records the spans the task makes under it. */
  readonly trace?: WireParent
  /** It has a `timeout`: the worker says when it starts (`Started`), and the pool's timer starts then. */
  readonly timed?: true
}

/** @internal */
export type ToWorker =
  | { readonly _tag: "Init"; readonly module: string; readonly name: string; readonly args: ReadonlyArray<unknown> }
  | { readonly _tag: "Run"; readonly calls: ReadonlyArray<Call> }
  | { readonly _tag: "Abort"; readonly id: number }
  | { readonly _tag: "Stop" }
  /** Report memory use with replies (`maxMemoryPerWorker`): process RSS, or a thread's heap used. */
  | { readonly _tag: "ReportMemory" }
  /** Answer `Ready` once the initializer has run (`prestart`). */
  | { readonly _tag: "Ping" }

/** @internal */
export type FromWorker =
  | { readonly _tag: "Done"; readonly replies: ReadonlyArray<Reply>; readonly memory?: number }
  | { readonly _tag: "InitFailed"; readonly defect: WireDefect }
  /**
   * Sent just before the worker dies, so the pool breaks at once rather than when the exit is reported;
   * replies already made are sent first. `id` is the call it was running, if any; `code` its exit code.
   */
  | {
      readonly _tag: "Dying"
      readonly how: string
      readonly defect: WireDefect | undefined
      readonly code: number
      readonly id: number | undefined
    }
  /** `Task.progress(value)` in the running call. */
  | { readonly _tag: "Progress"; readonly id: number; readonly value: unknown }
  /** A call with `timed` starts now: its timeout counts from here, not from when it reached the worker. */
  | { readonly _tag: "Started"; readonly id: number }
  /** The answer to `Ping`: the worker has started and its initializer has run. */
  | { readonly _tag: "Ready" }

/** @internal */
export interface Reply {
  readonly id: number
  readonly exit: WireExit
  /**
   * How long the worker ran the call, in milliseconds, posting the replies before it included: what
   * it cost the worker, without the wait for messages. Absent for a call that did not run.
   */
  readonly millis?: number
  /** A chunk that failed: the results of its calls before the one that failed, in order. */
  readonly done?: ReadonlyArray<unknown>
  /** The spans a traced call made, for the caller's tracer. */
  readonly spans?: ReadonlyArray<WireSpan>
}

/** @internal */
export type WireExit =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Fail"; readonly error: unknown; readonly via: "schema" | "error" | "value" }
  | { readonly _tag: "Die"; readonly defect: WireDefect }
  | { readonly _tag: "Interrupt" }
  | { readonly _tag: "Unclonable"; readonly valueType: string; readonly detail: string }

/**
 * An error or a thrown value in a form that always crosses: an Error as its name, message, stack,
 * the own fields that can be cloned and its `cause` (itself a `WireDefect`); another value without
 * the parts that cannot be cloned.
 */
/** @internal */
export type WireDefect =
  | {
      readonly isError: true
      readonly name: string
      readonly message: string
      readonly stack: string | undefined
      readonly fields: Record<string, unknown>
      readonly cause?: WireDefect
    }
  | { readonly isError: false; readonly value: unknown }

const isObject = (u: unknown): u is Record<string, any> => typeof u === "object" && u !== null

const isDefect = (u: unknown): u is WireDefect =>
  isObject(u) &&
  (u.isError === false ||
    (u.isError === true &&
      typeof u.name === "string" &&
      typeof u.message === "string" &&
      isObject(u.fields) &&
      (u.cause === undefined || isDefect(u.cause))))

const isWireExit = (u: unknown): u is WireExit => {
  if (!isObject(u)) return false
  switch (u._tag) {
    case "Success":
    case "Interrupt":
      return true
    case "Fail":
      return u.via === "schema" || u.via === "error" || u.via === "value"
    case "Die":
      return isDefect(u.defect)
    case "Unclonable":
      return typeof u.valueType === "string" && typeof u.detail === "string"
    default:
      return false
  }
}

const isReply = (u: unknown): u is Reply =>
  isObject(u) &&
  typeof u.id === "number" &&
  isWireExit(u.exit) &&
  (u.millis === undefined || typeof u.millis === "number") &&
  (u.spans === undefined || Array.isArray(u.spans)) &&
  (u.done === undefined || Array.isArray(u.done))

/** A check per message tag: a tag added to the protocol without its check does not compile. */
type Checks<M extends { readonly _tag: string }> = {
  readonly [K in M["_tag"]]: (u: Record<string, unknown>) => boolean
}

const fromWorkerChecks: Checks<FromWorker> = {
  Done: (u) => {
    const replies = u.replies
    if (!Array.isArray(replies) || (u.memory !== undefined && typeof u.memory !== "number")) return false
    for (let i = 0; i < replies.length; i++) if (!isReply(replies[i])) return false
    return true
  },
  Progress: (u) => typeof u.id === "number",
  Started: (u) => typeof u.id === "number",
  Ready: () => true,
  InitFailed: (u) => isDefect(u.defect),
  Dying: (u) =>
    typeof u.how === "string" &&
    typeof u.code === "number" &&
    (u.defect === undefined || isDefect(u.defect)) &&
    (u.id === undefined || typeof u.id === "number")
}

/**
 * Whether a message a worker's channel delivered is of the protocol: a task may send messages of
 * its own there (`process.send("ready")`, as pm2 expects), and those must never reach the pool.
 * Checks every field the pool reads, so the pool can trust what passes.
 */
/** @internal */
export const isFromWorker = (u: unknown): u is FromWorker =>
  isObject(u) && Object.hasOwn(fromWorkerChecks, u._tag as string) && fromWorkerChecks[u._tag as FromWorker["_tag"]](u)

const isCall = (u: unknown): u is Call =>
  isObject(u) &&
  typeof u.id === "number" &&
  typeof u.module === "string" &&
  typeof u.name === "string" &&
  Array.isArray(u.args) &&
  typeof u.chunk === "boolean" &&
  (!u.chunk || u.args.every(Array.isArray))

const toWorkerChecks: Checks<ToWorker> = {
  Run: (u) => Array.isArray(u.calls) && u.calls.every(isCall),
  Abort: (u) => typeof u.id === "number",
  Init: (u) => typeof u.module === "string" && typeof u.name === "string" && Array.isArray(u.args),
  Stop: () => true,
  ReportMemory: () => true,
  Ping: () => true
}

/** Whether a message a worker heard is the pool's: anything else is ignored, never run. */
/** @internal */
export const isToWorker = (u: unknown): u is ToWorker =>
  isObject(u) && Object.hasOwn(toWorkerChecks, u._tag as string) && toWorkerChecks[u._tag as ToWorker["_tag"]](u)

/**
 * `node:v8`, loaded when first needed: a worker that never encodes a defect does without it, and
 * it costs a thread a millisecond of its start.
 */
/** @internal */
export const v8 = (): typeof import("node:v8") => process.getBuiltinModule("node:v8")

/**
 * Whether `u` crosses this worker's channel: a child process's IPC uses V8's serializer, a thread's
 * port structured clone, and they refuse slightly different things (a `SharedArrayBuffer` crosses
 * only to a thread).
 */
const crosses = (u: unknown): boolean => {
  try {
    if (WorkerThreads.isMainThread && process.send !== undefined) v8().serialize(u)
    else structuredClone(u)
    return true
  } catch {
    return false
  }
}

/** Marks a part of a value left out because it cannot cross. */
const omitted: unique symbol = Symbol("omitted")

/** How deep `crossable` looks for the parts of a value that can cross. */
const maxDepth = 16

/** `object[key]`, or `omitted` where reading it throws (a getter, a Proxy's trap). */
const read = (object: object, key: string): unknown => {
  try {
    return (object as Record<string, unknown>)[key]
  } catch {
    return omitted
  }
}

/**
 * `u` when it crosses whole; else a copy without the parts that cannot (functions, symbols,
 * sockets: anything clone refuses), looking into plain objects, arrays, Maps and Sets only, as
 * a class instance that cannot cross (a socket, a request) is no data; `omitted` when nothing
 * of it can cross. Errors are rare enough that cloning to check costs nothing that matters.
 */
const crossable = (u: unknown, depth: number, path: Set<unknown>): unknown => {
  if (typeof u === "function" || typeof u === "symbol") return omitted
  if (!isObject(u) || crosses(u)) return u
  if (depth >= maxDepth || path.has(u)) return omitted
  path.add(u)
  try {
    const part = (v: unknown) => crossable(v, depth + 1, path)
    if (Array.isArray(u)) {
      return u.map((v) => {
        const copy = part(v)
        return copy === omitted ? undefined : copy
      })
    }
    if (u instanceof Map) {
      const out = new Map()
      for (const [k, v] of u) {
        const key = part(k)
        const value = part(v)
        if (key !== omitted && value !== omitted) out.set(key, value)
      }
      return out
    }
    if (u instanceof Set) {
      const out = new Set()
      for (const v of u) {
        const value = part(v)
        if (value !== omitted) out.add(value)
      }
      return out
    }
    const proto = Object.getPrototypeOf(u)
    if (proto !== Object.prototype && proto !== null) return omitted
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(u)) {
      const value = read(u, key)
      const copy = value === omitted ? omitted : part(value)
      if (copy !== omitted) out[key] = copy
    }
    return out
  } finally {
    path.delete(u)
  }
}

/** The error's own enumerable fields (`_tag`, `code`, ...) that can cross. */
const ownFields = (error: Error): Record<string, unknown> => {
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(error)) {
    if (key === "stack" || key === "message" || key === "cause") continue
    const value = read(error, key)
    if (value !== omitted) fields[key] = value
  }
  return crossable(fields, 0, new Set()) as Record<string, unknown>
}

/** How a value that cannot cross at all reads in the parent. */
const describe = (u: unknown): string =>
  typeof u === "function"
    ? `[function ${u.name || "(anonymous)"}, which cannot be sent from a worker]`
    : `[${typeof u === "symbol" ? String(u) : typeName(u)}, which cannot be sent from a worker]`

/** How many causes of causes travel with an error. */
const maxCauses = 8

/**
 * The wire form of an error or thrown value, which always crosses: what cannot be cloned in it (a
 * callback an HTTP client attached, a socket) is left out, so the error still arrives as itself.
 */
/** @internal */
export const encodeDefect = (u: unknown): WireDefect => encodeWithCauses(u, new Set())

const encodeWithCauses = (u: unknown, seen: Set<unknown>): WireDefect => {
  if (!(u instanceof Error)) {
    const value = crossable(u, 0, new Set())
    return { isError: false, value: value === omitted ? describe(u) : value }
  }
  seen.add(u)
  const name = read(u, "name")
  const message = read(u, "message")
  const stack = read(u, "stack")
  const defect = {
    isError: true as const,
    name: typeof name === "string" ? name : "Error",
    message:
      typeof message === "string" ? message : message === undefined || message === omitted ? "" : String(message),
    stack: typeof stack === "string" ? stack : undefined,
    fields: ownFields(u)
  }
  if (!Object.hasOwn(u, "cause")) return defect
  const cause = read(u, "cause")
  // A cycle, or a chain longer than anyone reads, ends here.
  if (cause === omitted || seen.has(cause) || seen.size > maxCauses) return defect
  return { ...defect, cause: encodeWithCauses(cause, seen) }
}

/** Rebuilds a worker's error: same name, message, fields and causes, with the worker's stack. */
/** @internal */
export const decodeDefect = (d: WireDefect): unknown => {
  if (!d.isError) return d.value
  const error = new Error(d.message)
  Object.defineProperty(error, "name", { value: d.name, writable: true, configurable: true })
  for (const key of Object.keys(d.fields)) {
    // An own `__proto__` field must stay a field, not become the error's prototype.
    if (key === "__proto__")
      Object.defineProperty(error, key, { value: d.fields[key], enumerable: true, writable: true })
    else (error as any)[key] = d.fields[key]
  }
  // As `new Error(message, { cause })` makes it.
  if (d.cause !== undefined) {
    Object.defineProperty(error, "cause", { value: decodeDefect(d.cause), writable: true, configurable: true })
  }
  if (d.stack !== undefined) error.stack = d.stack
  return error
}

/**
 * The wire form of a typed failure of a task without an error Schema: an Error as its
 * `WireDefect` (carrying `_tag` and fields), any other value as it is.
 */
/** @internal */
export const encodeFailure = (error: unknown): WireExit =>
  error instanceof Error
    ? { _tag: "Fail", error: encodeDefect(error), via: "error" }
    : { _tag: "Fail", error, via: "value" }

/**
 * Names the first value in `u` that structured clone refuses, with where it is. Reads own
 * properties through their descriptors, so a getter (which clone would call) is named, not run.
 */
const findUnclonable = (u: unknown, path: string, seen = new Set<unknown>()): string | undefined => {
  if (typeof u === "function") return `${path}: function ${u.name || "(anonymous)"}`
  if (typeof u === "symbol") return `${path}: symbol ${String(u.description ?? "")}`
  if (typeof u !== "object" || u === null || seen.has(u)) return undefined
  seen.add(u)
  if (u instanceof WeakMap || u instanceof WeakSet || u instanceof Promise) {
    return `${path}: ${u.constructor.name}`
  }
  if (u instanceof Map) {
    for (const [k, v] of u) {
      const found = findUnclonable(k, `${path} key`, seen) ?? findUnclonable(v, `${path}[${String(k)}]`, seen)
      if (found) return found
    }
    return undefined
  }
  const owner = typeName(u)
  const where = owner === "Object" || owner === "Array" ? path : `${path} (${owner})`
  for (const key of Object.keys(u)) {
    const descriptor = Object.getOwnPropertyDescriptor(u, key)
    if (descriptor === undefined) continue
    if (descriptor.get !== undefined) return `${where}.${key}: getter`
    const found = findUnclonable(descriptor.value, `${where}.${key}`, seen)
    if (found) return found
  }
  return undefined
}

/**
 * What a `SerializationError` says of a value that could not be posted: the first part that
 * cannot be cloned, with where it is, and the runtime's own message.
 */
/** @internal */
export const unclonableDetail = (
  value: unknown,
  path: string,
  cause: unknown
): { readonly valueType: string; readonly detail: string } => ({
  valueType: safely(() => findUnclonable(value, path)) ?? `${path}: ${typeName(value)}`,
  detail: cause instanceof Error ? cause.message : String(cause)
})

/** Error reporting must not throw: a Proxy's traps can. */
const safely = <A>(f: () => A): A | undefined => {
  try {
    return f()
  } catch {
    return undefined
  }
}

/** @internal */
export const typeName = (u: unknown): string =>
  u === null ? "null" : typeof u === "object" ? (u.constructor?.name ?? "Object") : typeof u

let utilTypes: typeof import("node:util").types | undefined

/** Whether `u` is a Proxy, whose traps a walk must not run (clone refuses one anyway). */
const isProxy = (u: object): boolean => (utilTypes ??= process.getBuiltinModule("node:util").types).isProxy(u)

/**
 * Marks in `owners`, as `owner`'s, the objects structured clone reaches from `values`: own
 * enumerable properties, array elements, Map and Set entries, an Error's `cause`, a view's buffer.
 * Says `"shared"` as soon as one is already another owner's, `"opaque"` when a part cannot be
 * reached without running code (a getter), else `"own"`. Iterative: a deep value cannot overflow the stack.
 */
const mark = (
  values: ReadonlyArray<unknown>,
  owner: number,
  owners: Map<object, number>
): "own" | "shared" | "opaque" => {
  const stack: Array<object> = []
  for (let i = 0; i < values.length; i++) if (isObject(values[i])) stack.push(values[i] as object)
  while (stack.length > 0) {
    const u = stack.pop()!
    const had = owners.get(u)
    if (had === owner) continue
    if (had !== undefined) return "shared"
    owners.set(u, owner)
    if (ArrayBuffer.isView(u)) {
      stack.push(u.buffer)
    } else if (Array.isArray(u)) {
      for (let i = 0; i < u.length; i++) if (isObject(u[i])) stack.push(u[i])
    } else if (u instanceof Map) {
      for (const [k, v] of u) {
        if (isObject(k)) stack.push(k)
        if (isObject(v)) stack.push(v)
      }
    } else if (u instanceof Set) {
      for (const v of u) if (isObject(v)) stack.push(v)
    } else if (!(u instanceof ArrayBuffer) && !isProxy(u)) {
      const keys = u instanceof Error ? (Object.hasOwn(u, "cause") ? ["cause"] : []) : Object.keys(u)
      for (const key of keys) {
        const descriptor = Object.getOwnPropertyDescriptor(u, key)
        if (descriptor === undefined) continue
        if (descriptor.get !== undefined) return "opaque"
        if (isObject(descriptor.value)) stack.push(descriptor.value)
      }
    }
  }
  return "own"
}

/**
 * `items` in the messages they go in, in order: one structured clone per message would give the
 * items of a message that hold the same object (`partsOf` each item's values) one shared copy of
 * it, so an item that shares an object with an earlier one starts a new message, and one whose
 * parts cannot all be seen goes alone. Python pickles each call and result apart; this keeps that
 * while most batches still go in one message. Values without objects cost no walk.
 */
/** @internal */
export const messagesApart = <A>(
  items: ReadonlyArray<A>,
  partsOf: (item: A) => ReadonlyArray<unknown>
): ReadonlyArray<ReadonlyArray<A>> => {
  if (items.length < 2) return [items]
  let owners: Map<object, number> | undefined
  const messages: Array<ReadonlyArray<A>> = []
  let start = 0
  for (let i = 0; i < items.length; i++) {
    const parts = partsOf(items[i])
    if (!parts.some(isObject)) continue
    owners ??= new Map()
    let found = mark(parts, i, owners)
    if (found === "own") continue
    if (i > start) messages.push(items.slice(start, i))
    start = i
    owners.clear()
    if (found === "shared") found = mark(parts, i, owners)
    if (found === "opaque") {
      messages.push([items[i]])
      start = i + 1
      owners.clear()
    }
  }
  if (start < items.length) messages.push(start === 0 ? items : items.slice(start))
  return messages
}
