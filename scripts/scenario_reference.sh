#!/usr/bin/env bash
# Regenerates the key table of docs/scenario-reference.md from the registry
# (model/scenario_schema.cpp) through `exoderm keys`; the prose above the table is kept.
#   scripts/scenario_reference.sh [path/to/exoderm]    (default: build/release/exoderm)
set -euo pipefail
cd "$(dirname "$0")/.."
exe="${1:-build/release/exoderm}"
doc=docs/scenario-reference.md
header=$(sed -n '/^| key |/q;p' "$doc")
{ printf '%s\n\n' "$header"; "$exe" keys; } > "$doc.tmp"
mv "$doc.tmp" "$doc"
