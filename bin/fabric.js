#!/usr/bin/env node
// The member tool: runs the built JavaScript directly, in this process.
await import('../dist/cli/fabric.js')
