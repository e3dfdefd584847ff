#!/usr/bin/env node
// The operator's relay process: runs the built JavaScript directly, in this
// process (no wrapper child), so a signal to the command reaches the node.
await import('../dist/cli/fabric-node.js')
