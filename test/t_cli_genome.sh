#!/usr/bin/env bash
# `a4nn genome`: JSON and text output, and clear errors for bad input.
set -euo pipefail
A4NN="${A4NN_BUILD:-build}/a4nn"
G='[[0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0]]'

json=$("$A4NN" genome --input 127x127 --init-channels 24 --format json "$G")
mflops=$(grep -o '"mflops": [0-9.]*' <<<"$json" | head -1 | cut -d' ' -f2)
params=$(grep -o '"params": [0-9]*' <<<"$json" | head -1 | cut -d' ' -f2)
[[ $(printf '%.4f' "$mflops") == 352.8169 && $params == 54890 ]] || { echo "unexpected mflops/params: $mflops $params"; exit 1; }

"$A4NN" genome "$G" | grep -q '^total: 2 active phases, 352.8169 MFLOPs'
"$A4NN" genome --help | grep -q 'usage: a4nn genome'
"$A4NN" --help | grep -q 'genome'

expect_fail() {  # expect_fail <pattern> <args...>
  local pat=$1; shift
  local out rc=0
  out=$("$A4NN" "$@" 2>&1) || rc=$?
  [[ $rc -ne 0 ]] || { echo "expected failure for: $*"; exit 1; }
  [[ $out == *"a4nn: "* && $out == *"$pat"* ]] || { echo "bad message for $*: $out"; exit 1; }
}
expect_fail "phase 2 has 6 bits" genome '[[0,0,1,0,0,0,1],[0,0,0,0,0,0],[0,0,1,0,0,0,0]]'
expect_fail "not 0 or 1" genome '[[0,0,1,0,0,0,1],[0,0,0,0,0,0,3],[0,0,1,0,0,0,0]]'
expect_fail "bad value 'abc' for --init-channels" genome --init-channels abc "$G"
expect_fail "unknown option '--bogus'" genome --bogus 1 "$G"
expect_fail "no genome given" genome
expect_fail "unknown command 'nosuch'" nosuch
echo "genome CLI ok"
