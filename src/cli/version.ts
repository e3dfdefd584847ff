/**
 * `--version` of the tools: the version in package.json, read at run time
 * so a release bump needs no code change.
 */
import { readFile } from 'node:fs/promises'

/**
 * `<tool> <version>` and a second line with the Node version and platform.
 * @throws when package.json cannot be read (a broken install)
 */
export async function versionText (tool: string): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return `${tool} ${pkg.version}\nnode ${process.version} ${process.platform}-${process.arch}\n`
}
