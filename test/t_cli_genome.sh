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
"$A4NN" genome --help | grep -q 'genome has 1 phase, expected 3'   # the errors are documented
"$A4NN" genome --help | grep -q -- '--phases N'
# --phases and --nodes choose the expected shape
"$A4NN" genome --phases 1 '[[1,0,0,0,0,0,0]]' | grep -q '^total: 1 active phase'
"$A4NN" genome --phases 2 --nodes 3 '[[1,0,0,1],[0,1,1,0]]' | grep -q '^total: 2 active phases'
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
expect_fail "genome has 1 phase, expected 3" genome '[[1,0,0,0,0,0,0]]'
expect_fail "genome has 4 phases, expected 3" genome '[[1,0,0,0,0,0,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0],[1,0,0,0,0,0,0]]'
expect_fail "genome has 3 phases, expected 2" genome --phases 2 "$G"
expect_fail "trailing ',' in phase 1" genome '[[1,0,0,0,0,0,0,],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0]]'
expect_fail "bad value '7' for --phases" genome --phases 7 "$G"
expect_fail "phase 1 has more than 4 bits (3 nodes" genome --nodes 3 "$G"
# a4nn train checks the same way, with the same options
expect_fail "genome has 1 phase, expected 3" train --genome '[[1,0,0,0,0,0,0]]'
expect_fail "trailing ',' in phase 1" train --genome '[[1,0,0,0,0,0,0,]]'
expect_fail "bad value '9' for --nodes" train --nodes 9 --genome "$G"
"$A4NN" train --phases 1 --nodes 3 --genome '[[1,0,0,1]]' --synthetic 16 --size 8x8 \
  --init-channels 2 --epochs 1 --batch 8 --threads 1 --csv | grep -q '^0,'
expect_fail "unknown option '--bogus'" genome --bogus 1 "$G"
expect_fail "no genome given" genome
expect_fail "unknown command 'nosuch'" nosuch
echo "genome CLI ok"
