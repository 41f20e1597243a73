#!/usr/bin/env bash
# Fails when the committed generated code differs from what the .proto sources generate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/generate_protos.sh
drift=$(git status --porcelain -- protos)
if [ -n "$drift" ]; then
  echo "generated code is out of date with the .proto sources; run scripts/generate_protos.sh and commit:" >&2
  echo "$drift" >&2
  git --no-pager diff --stat -- protos >&2
  exit 1
fi
echo "generated code matches the .proto sources"
