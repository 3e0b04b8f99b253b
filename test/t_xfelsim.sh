#!/usr/bin/env bash
# a4nn-xfelsim end to end: a valid dataset, byte-identical files for the same
# seed and for 1 or 3 MPI ranks, previews, and clear errors for bad options.
set -euo pipefail
B=${A4NN_BUILD:-build}
SIM="$B/a4nn-xfelsim"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args=(--pixels 64 --bin 2 --n-train 40 --n-test 12 --fluence 1e15 --seed 5)

"$SIM" -o "$tmp/a.h5" "${args[@]}" --preview "$tmp/png" 2>"$tmp/a.log" | grep -q '40 train + 12 test images of 32x32'
grep -q '52 of 52 images (100%)' "$tmp/a.log"   # progress lines in a log, not only on a terminal
sleep 1   # object timestamps, if any were written, would now differ
"$SIM" -o "$tmp/b.h5" "${args[@]}"
mpirun --oversubscribe -np 3 "$SIM" -o "$tmp/c.h5" "${args[@]}"
"$SIM" -o "$tmp/d.h5" "${args[@]:0:10}" --seed 6   # another seed
h5diff "$tmp/a.h5" "$tmp/b.h5"            # same seed: same data and attributes
h5diff "$tmp/a.h5" "$tmp/c.h5"            # 1 rank and 3 ranks: same data and attributes
cmp "$tmp/a.h5" "$tmp/b.h5"               # ... and the same bytes
cmp "$tmp/a.h5" "$tmp/c.h5"
if h5diff -q "$tmp/a.h5" "$tmp/d.h5" >/dev/null 2>&1; then echo "different seeds gave the same file"; exit 1; fi
[[ $(ls "$tmp/png"/*.png | wc -l) -eq 6 ]]
# every setting is recorded
for a in beamstop_radius_m background_photons_per_pixel solvent_photons_per_pixel detector_gain \
         read_noise fluence_jitter hit_offset_fwhm hinge_deg same_orientations binning; do
  h5dump -a "/$a" "$tmp/a.h5" >/dev/null || { echo "attribute $a missing"; exit 1; }
done
h5dump -d /train/pulse_fluence "$tmp/a.h5" >/dev/null
# orientations: independent between fluences by default, shared on request
quats() { h5dump -d /train/orientations -y -w 0 "$1" | grep -A3 DATA; }
"$SIM" -o "$tmp/e.h5" "${args[@]/1e15/1e16}"
"$SIM" -o "$tmp/f.h5" "${args[@]}" --same-orientations
"$SIM" -o "$tmp/g.h5" "${args[@]/1e15/1e16}" --same-orientations
[[ $(quats "$tmp/a.h5") != "$(quats "$tmp/e.h5")" ]] || { echo "fluences share orientations"; exit 1; }
[[ $(quats "$tmp/f.h5") == "$(quats "$tmp/g.h5")" ]] || { echo "--same-orientations differs"; exit 1; }
# no overwriting without --force; --version names the build
out=$("$SIM" -o "$tmp/a.h5" "${args[@]}" 2>&1) && exit 1
[[ $out == *"exists (--force overwrites it)"* ]]
cmp "$tmp/a.h5" "$tmp/b.h5"                # the refused run left the file alone
"$SIM" -o "$tmp/a.h5" "${args[@]}" --force >/dev/null && cmp "$tmp/a.h5" "$tmp/b.h5"
"$SIM" --version | grep -q '^a4nn-xfelsim .*(MPI, parallel HDF5'

# the loader accepts it: a4nn train reads it
"$B/a4nn" train --data "$tmp/a.h5" --genome '[[1,0,0,0,0,0,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0]]' \
  --init-channels 2 --epochs 1 --batch 8 --csv | grep -q '^0,'
# balanced labels
h5dump -d /train/labels "$tmp/a.h5" | grep -q '0, 1, 0, 1'

expect_fail() {
  local pat=$1; shift
  local out rc=0
  out=$("$SIM" "$@" 2>&1) || rc=$?
  [[ $rc -ne 0 && $out == *"a4nn: "*"$pat"* ]] || { echo "expected '$pat' from: $* -> $out"; exit 1; }
}
expect_fail "no output file" --n-train 4
expect_fail "bad value 'abc' for --fluence" -o "$tmp/x.h5" --fluence abc
expect_fail "unknown option '--bogus'" -o "$tmp/x.h5" --bogus 1
expect_fail "give two --pdb files" -o "$tmp/x.h5" --pdb "$tmp/one.pdb"
expect_fail "cannot open PDB file" -o "$tmp/x.h5" --pdb "$tmp/one.pdb" --pdb "$tmp/two.pdb"
expect_fail "leaves no image" -o "$tmp/x.h5" --pixels 8 --bin 8
expect_fail "cannot create" -o /nonexistent/dir/x.h5 --n-train 2 --n-test 2
expect_fail "bad value '-1' for --jitter" -o "$tmp/x.h5" --jitter -1
expect_fail "hinge 90 degrees makes domains III-V run into I-II" -o "$tmp/x.h5" --hinge 90
# counts and sizes are whole numbers, not truncated
expect_fail "bad value '2.5' for --n-train (expected a whole number" -o "$tmp/x.h5" --n-train 2.5
expect_fail "bad value '1e3' for --n-test (expected a whole number" -o "$tmp/x.h5" --n-test 1e3
expect_fail "bad value '64.9' for --pixels (expected a whole number" -o "$tmp/x.h5" --pixels 64.9
expect_fail "bad value '2x' for --bin" -o "$tmp/x.h5" --bin 2x
expect_fail "bad value '1.5' for --seed" -o "$tmp/x.h5" --seed 1.5
expect_fail "bad value '1' for --n-train (expected a whole number 2..1000000000)" -o "$tmp/x.h5" --n-train 1
expect_fail "--hinge 0 makes the two conformations identical" -o "$tmp/x.h5" --hinge 0
expect_fail "--hinge 0 makes the two conformations identical" -o "$tmp/x.h5" --hinge -0.0
echo "xfelsim ok"
