#!/usr/bin/env bash
# Development learning-curve corpora for PENGUIN policies: one a4nn search per
# beam intensity (1e14, 1e15, 1e16) with PENGUIN off, so every model trains
# the full budget, written in the reference curve format
# (test/reference/data/curves/nsganet-xfel-1e16-full.csv).
#
# Sized for two shared CPU cores: 32x32 patterns (128-pixel detector binned
# 4x4, as the default data), 192 training / 128 validation images,
# init_channels 4, batch 32, the CPU engine with 1 thread on each of 2
# workers; 100 models (20 + 20 x 4) x 25 epochs per search, about 0.2 s of
# CPU per model-epoch.
#
#   scripts/make-curve-corpus.sh [OUTDIR [WORKDIR]]
#
# Writes OUTDIR/a4nn-NAME-xfel-1eNN.csv (default test/reference/data/curves);
# WORKDIR (default /tmp/a4nn-curve-corpus-NAME) keeps the data and run
# directories, and a finished run there is converted again rather than
# repeated. The environment varies the corpus (defaults in brackets):
#   CORPUS_NAME [cpu32]  CORPUS_TRAIN [192]  CORPUS_VAL [128]
#   CORPUS_FLUENCES ["1e14 1e15 1e16"]  CORPUS_SEED_OFFSET [0] (added to the
#   run seeds 14, 15, 16)  CORPUS_SIM ["--pixels 128 --bin 4 --hinge 90
#   --seed 2023"] (the simulator's options besides fluence and counts)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${A4NN_BUILD:-${BUILD:-build}}
NAME=${CORPUS_NAME:-cpu32}
N_TRAIN=${CORPUS_TRAIN:-192}
N_VAL=${CORPUS_VAL:-128}
SIM=${CORPUS_SIM:---pixels 128 --bin 4 --hinge 90 --seed 2023}
SEED_OFFSET=${CORPUS_SEED_OFFSET:-0}
OUT=${1:-test/reference/data/curves}
WORK=${2:-/tmp/a4nn-curve-corpus-$NAME}
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1}
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
mkdir -p "$OUT" "$WORK"
# the three searches run at the same time (each 4 ranks: search, 2 workers,
# analytics); seeds differ so the searches explore different genomes
for f in ${CORPUS_FLUENCES:-1e14 1e15 1e16}; do
  (
    data="$WORK/xfel32-$f.h5"
    run="$WORK/run-$f"
    if [[ ! -f $data ]]; then
      # shellcheck disable=SC2086 # SIM is a list of options
      "$B/a4nn-xfelsim" -o "$data.tmp" --force --fluence "$f" $SIM \
        --n-train "$N_TRAIN" --n-test "$N_VAL" >/dev/null
      mv "$data.tmp" "$data"
    fi
    if ! grep -q '^done:' "$run/run.out" 2>/dev/null; then
      rm -rf "$run"
      mkdir -p "$run"
      mpirun --oversubscribe -np 4 "$B/a4nn" run configs/default.ini \
        --run.dir="$run/a4nn" --run.seed="$((${f#1e} + SEED_OFFSET))" --penguin.enabled=off \
        --search.pop_size=20 --search.n_offspring=20 --search.n_gens=4 \
        --search.init_channels=4 --train.epochs=25 --train.batch=32 \
        --data.file="$data" --data.train_count="$N_TRAIN" --data.val_count="$N_VAL" \
        --worker.backend=cpu --worker.checkpoint_every=0 >"$run/run.out" 2>&1
    fi
    "$B/a4nn" export "$run/a4nn" --format csv -o "$run/export.csv"
    # reference format: one row per (model, epoch) in model order, no
    # predictions (PENGUIN was off), arch = the model id, flops = MFLOPs
    python3 - "$run/export.csv" "$OUT/a4nn-$NAME-xfel-$f.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
# the model column is "id" (older exports: "model")
mid = lambda r: int(r["id"] if "id" in r else r["model"])
rows.sort(key=lambda r: (mid(r), int(r["epoch"])))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["epoch", "train_accs", "val_accs", "predictions", "converged", "genome", "arch", "flops"])
    for r in rows:
        w.writerow([r["epoch"], "%.6f" % float(r["train_acc"]), "%.6f" % float(r["val_acc"]), "inf", "False",
                    r["genome"], mid(r), "%.6f" % float(r["mflops"])])
EOF
    echo "wrote $OUT/a4nn-$NAME-xfel-$f.csv"
  ) &
done
wait
