/** A helper a task module imports, with its real extension, as plain Node needs. */
export const double = (n: number): number => n * 2
