/**
 * A task module that needs a TypeScript loader: an `enum` is not erasable, so
 * plain Node cannot import this file; under tsx (or `node --import tsx`) the
 * workers inherit the loader and can.
 */
import { Task } from "../../src/index.ts"

enum Color {
  Red = 1,
  Green = 2
}

/** The enum's value for `name`. */
export const color = Task.make(import.meta.url, "color", (name: "Red" | "Green"): number => Color[name])
