#!/usr/bin/env bash
# Regenerates the Python code for every .proto under protos/; the only way generated files change.
set -euo pipefail
cd "$(dirname "$0")/../protos"
find oes -name '*_pb2*.py' -delete
find oes -name '*_pb2*.pyi' -delete
mapfile -t sources < <(find oes -name '*.proto' | sort)
python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. "${sources[@]}"
# Every directory of the generated package is a regular package so that setuptools and mypy find it.
find oes -type d -exec sh -c 'test -f "$1/__init__.py" || : > "$1/__init__.py"' _ {} \;
