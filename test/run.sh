#!/usr/bin/env bash
# Runs every test: the cmocka programs build/test/test_* (counted per test
# case) and the scripts test/t_*.sh (one test each; exit 77 means skipped, and
# the script prints SKIPPED with its reason). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export A4NN_BUILD="$PWD/$BUILD"
# reference data: A4NN_SHARED, else ../shared beside the checkout, else the
# copy in test/reference
if [[ -z ${A4NN_SHARED:-} ]]; then
  if [[ -d ../shared/data/curves ]]; then export A4NN_SHARED="$(cd ../shared && pwd)"
  else export A4NN_SHARED="$PWD/test/reference"; fi
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
filter=${1:-}
passed=0 failed=0 skipped=0 failures=()
log_dir="$BUILD/test-logs"; mkdir -p "$log_dir"

for t in "$BUILD"/test/test_*; do
  [[ -x $t ]] || continue
  name=$(basename "$t")
  [[ -n $filter && $name != *$filter* ]] && continue
  start=$(date +%s)
  "$t" >"$log_dir/$name.log" 2>&1; rc=$?
  p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$log_dir/$name.log" | awk '{s+=$NF} END{print s+0}')
  f=$(grep -Eo '^\[  FAILED  \] [0-9]+' "$log_dir/$name.log" | awk '{s+=$NF} END{print s+0}')
  s=$(grep -Eo '^\[  SKIPPED \] [0-9]+' "$log_dir/$name.log" | awk '{s+=$NF} END{print s+0}')
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi   # crashed before cmocka's summary
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  status=ok; [[ $f -gt 0 ]] && { status=FAILED; failures+=("$name"); }
  printf '%-34s %3d passed %3d failed %3d skipped  %4ds  %s\n' "$name" "$p" "$f" "$s" $(( $(date +%s) - start )) "$status"
  [[ $f -gt 0 ]] && tail -n 40 "$log_dir/$name.log" | sed 's/^/    | /'
  grep -h 'SKIPPED:' "$log_dir/$name.log" | sed 's/^/    /'
done

for t in test/t_*.sh; do
  [[ -f $t ]] || continue
  name=$(basename "$t" .sh)
  [[ -n $filter && $name != *$filter* ]] && continue
  start=$(date +%s)
  bash "$t" >"$log_dir/$name.log" 2>&1; rc=$?
  case $rc in
    0) passed=$((passed + 1)); status=ok ;;
    77) skipped=$((skipped + 1)); status="SKIPPED: $(grep -m1 SKIPPED "$log_dir/$name.log")" ;;
    *) failed=$((failed + 1)); status=FAILED; failures+=("$name") ;;
  esac
  printf '%-34s %4ds  %s\n' "$name" $(( $(date +%s) - start )) "$status"
  [[ $rc -ne 0 && $rc -ne 77 ]] && tail -n 40 "$log_dir/$name.log" | sed 's/^/    | /'
done

[[ ${#failures[@]} -gt 0 ]] && echo "failed: ${failures[*]} (logs in $log_dir)"
echo "$skipped skipped (each says SKIPPED and why above)"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
