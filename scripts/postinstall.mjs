// Applies patches/ (patch-package) to this repository's own node_modules.
// In an app that installed fabric-relay from the registry there is neither
// patch-package nor a patches/ folder at the root: nothing is done there
// (docs/client.md says what such an app applies itself).
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'node_modules', 'patch-package', 'index.js')
if (existsSync(join(root, 'patches')) && existsSync(bin)) {
  const r = spawnSync(process.execPath, [bin, '--error-on-fail'], { cwd: root, stdio: 'inherit' })
  process.exit(r.status ?? 1)
}
