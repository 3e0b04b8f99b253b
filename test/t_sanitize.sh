#!/usr/bin/env bash
# The single-process cmocka tests under AddressSanitizer and
# UndefinedBehaviorSanitizer (make SANITIZE=1, built in build-san): any
# invalid read or write, use after free, overflow or undefined behaviour
# fails the test. Leak checking is off (Open MPI and OpenMP keep memory to
# the end by design).
set -uo pipefail
cd "$(dirname "$0")/.."
SAN_BUILD=${A4NN_SAN_BUILD:-build-san}
echo 'int main(void){return 0;}' >"/tmp/a4nn-san-$$.c"
if ! mpicc -fsanitize=address,undefined "/tmp/a4nn-san-$$.c" -o "/tmp/a4nn-san-$$" 2>/dev/null; then
  rm -f "/tmp/a4nn-san-$$"*; echo "SKIPPED: the compiler cannot build with -fsanitize=address,undefined (libasan missing)"; exit 77
fi
rm -f "/tmp/a4nn-san-$$"*
# the multi-rank and GPU programs are not single-process tests; training
# networks (test_nn_train), replaying the reference curves through every
# policy (test_penguin) and simulating diffraction (test_xfel) take minutes
# under ASan: A4NN_SAN_ALL=1 adds them (the readers of their files have
# their own fast tests: test_curve_files, test_data)
tests=()
for t in test/test_*.c; do
  n=$(basename "$t" .c)
  [[ $n == test_group_mpi || $n == test_cuda_parity ]] && continue
  [[ ${A4NN_SAN_ALL:-0} != 1 && ( $n == test_nn_train || $n == test_penguin || $n == test_xfel ) ]] &&
    { echo "not under ASan here: $n (slow; A4NN_SAN_ALL=1 runs it)"; continue; }
  tests+=("$SAN_BUILD/test/$n")
done
make --no-print-directory -j2 SANITIZE=1 BUILD="$SAN_BUILD" "${tests[@]}" >"$SAN_BUILD.log" 2>&1 ||
  { tail -30 "$SAN_BUILD.log"; echo "FAIL: the SANITIZE=1 build failed"; exit 1; }
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
failed=0
for t in "${tests[@]}"; do
  start=$(date +%s)
  if "$t" >"$t.log" 2>&1; then echo "ok: $(basename "$t") ($(( $(date +%s) - start )) s)"
  else failed=1; echo "FAIL: $(basename "$t") under ASan/UBSan:"; grep -m5 -E 'ERROR|runtime error|FAILED' "$t.log"; fi
done
exit $failed
