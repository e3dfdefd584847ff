import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The four committed clips; see fixtures/README.md. */
export const MEMBERS = ['alice', 'bob', 'carol', 'dave'] as const

/** Absolute path of fixtures/media/<name>.ivf. */
export function fixturePath (name: string): string {
  return fileURLToPath(new URL(`../../fixtures/media/${name}.ivf`, import.meta.url))
}

/** Bytes of fixtures/media/<name>.ivf as a plain Uint8Array. */
export function fixtureBytes (name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)))
}
