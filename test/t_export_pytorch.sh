#!/usr/bin/env bash
# The winner leaves a4nn: a short CPU search, `a4nn export --format pytorch`
# of one of its models, and the exported Python module rebuilt in Debian's
# PyTorch gives the logits `a4nn predict` gives on the same images (1e-4);
# `a4nn train --save` writes a model file both read the same way; bad input
# gets a clear error.
source "$(dirname "$0")/t_run_common.inc"
$PY -c 'import torch, h5py, numpy' 2>/dev/null || { echo "SKIPPED: /usr/bin/python3 lacks torch/h5py/numpy"; exit 77; }
data=data/default/xfel-1e16.h5
A4NN_BUILD=$(dirname "$A4NN") scripts/make-default-data.sh >"$TMP/data.log" 2>&1 \
  || { cat "$TMP/data.log"; fail "cannot generate the default data"; }
data=$PWD/$data
run 3 "$A4NN" run configs/default.ini --data.file="$data" --search.pop_size=2 \
  --search.n_offspring=1 --search.n_gens=1 --train.epochs=2 --data.train_count=128 \
  --data.val_count=64 --search.init_channels=4 --train.batch=64 --run.dir="$TMP/run" \
  >"$TMP/run.log" 2>&1 || { cat "$TMP/run.log"; fail "search failed"; }

"$A4NN" export "$TMP/run" --model 2 --format pytorch -o "$TMP/pt" >"$TMP/export.log" \
  || fail "export failed"
cat "$TMP/export.log"
[[ -s $TMP/pt/model-000002.h5 && -s $TMP/pt/a4nn_model.py ]] || fail "export wrote no files"
"$A4NN" predict --checkpoint "$TMP/pt/model-000002.h5" --data "$data" --count 96 \
  -o "$TMP/run.csv" | tee "$TMP/predict.log"
grep -q "on 96 images" "$TMP/predict.log" || fail "predict: no accuracy line"

genome=$(sed -n 's/^wrote .*(model 2, \(.*\), weights after.*/\1/p' "$TMP/export.log")
[[ -n $genome ]] || fail "export did not name the genome"
"$A4NN" train --genome "$genome" --data "$data" --epochs 1 --init-channels 4 --batch 64 \
  --threads 1 --save "$TMP/trained.h5" >"$TMP/train.log" || { cat "$TMP/train.log"; fail "train --save failed"; }
grep -q "saved $TMP/trained.h5" "$TMP/train.log" || fail "train did not say it saved"
"$A4NN" predict --checkpoint "$TMP/trained.h5" --data "$data" --count 96 -o "$TMP/trained.csv" >/dev/null \
  || fail "predict on the train --save file failed"

# the exported module, copied away from the build tree: only torch, numpy, h5py
mkdir "$TMP/elsewhere" && cp "$TMP/pt/a4nn_model.py" "$TMP/elsewhere/"
(cd "$TMP/elsewhere" && $PY - "$TMP" "$data" <<'PYEOF') || fail "PyTorch logits differ from a4nn predict"
import sys, csv, math
import torch
import a4nn_model
tmp, data = sys.argv[1], sys.argv[2]
x, y = a4nn_model.load_images(data, "test", 0, 96)
for model, out in (("pt/model-000002.h5", "run.csv"), ("trained.h5", "trained.csv")):
    net = a4nn_model.load("%s/%s" % (tmp, model))
    with torch.no_grad():
        logits = net(x)
    rows = list(csv.DictReader(open("%s/%s" % (tmp, out))))
    assert len(rows) == 96, len(rows)
    worst = 0.0
    for i, r in enumerate(rows):
        assert int(r["label"]) == int(y[i]), (i, r["label"], int(y[i]))
        assert abs(float(r["prob_0"]) + float(r["prob_1"]) - 1) < 1e-6, r
        assert int(r["predicted"]) == (1 if float(r["logit_1"]) > float(r["logit_0"]) else 0), r
        for k in range(2):
            worst = max(worst, abs(float(r["logit_%d" % k]) - logits[i, k].item()))
    print("%s: %d images, largest logit difference %.3g" % (model, len(rows), worst))
    assert worst <= 1e-4, worst
    assert logits.std().item() > 0, "constant logits"
PYEOF

# bad input: one clear line and a non-zero exit
expect_err "has no finished model 9" "$A4NN" export "$TMP/run" --model 9 --format pytorch -o "$TMP/x"
expect_err "needs --model ID" "$A4NN" export "$TMP/run" --format pytorch
expect_err "not an a4nn model file" "$A4NN" predict --checkpoint "$data" --data "$data"
rm "$TMP/run/checkpoints/model-000001.ckpt"
expect_err "model 1 has no saved weights" "$A4NN" export "$TMP/run" --model 1 --format pytorch -o "$TMP/x"
echo "ok: export to PyTorch, predict and train --save agree"
