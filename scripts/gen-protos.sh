#!/usr/bin/env bash
# Regenerates src/wire/pb/*.ts from protocol/*.proto with protons (pinned in devDependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
for f in protocol/*.proto; do
  npx --no-install protons "$f"
  mv "${f%.proto}.ts" "src/wire/pb/$(basename "${f%.proto}").ts"
done
