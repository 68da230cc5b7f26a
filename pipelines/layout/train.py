"""Train the layout word classifier (LightGBM) and export it to ONNX with its manifest.

    python train.py --features train.csv --out ../../models/layout-gbdt [--rounds 120]

Reads the CSV written by `cargo run -p claimscan-layout --example features` (train-split
distributors only), holds out 10% of the documents (by doc id hash) for early stopping, and writes
`model.onnx` + `manifest.toml` (see models/README.md for the contract).
"""
import argparse
import hashlib
import json
import os
import time

import lightgbm as lgb
import numpy as np
import onnx
import onnxruntime as ort
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

LABELS = [
    "other", "supplier_name", "supplier_vat_id", "invoice_number", "invoice_date", "currency",
    "subtotal", "tax", "total", "line_product_code", "line_description", "line_quantity",
    "line_unit", "line_unit_price", "line_net_price", "line_amount", "line_discount", "line_other",
]


def load(path):
    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
    meta = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2), dtype=str)
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(3, len(header)), dtype=np.float32)
    names = header[6:]
    return meta, data[:, 2].astype(np.int32), data[:, 3:], names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=120)
    ap.add_argument("--leaves", type=int, default=31)
    ap.add_argument("--lr", type=float, default=0.12)
    ap.add_argument("--schema", type=int, default=1)
    ap.add_argument("--cord-weight", type=float, default=1.0, help="sample weight of CORD receipt words")
    ap.add_argument("--name", default="layout-gbdt")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--data-id", default="invgen seed 20240611, 1500 docs, train split")
    args = ap.parse_args()

    t0 = time.time()
    meta, y, x, names = load(args.features)
    docs = meta[:, 0]
    assert set(meta[:, 1]) == {"train"}, "train on train-split distributors only"
    valid = np.array([int(hashlib.sha256(d.encode()).hexdigest(), 16) % 10 == 0 for d in docs])
    print(f"loaded {len(y)} words, {x.shape[1]} features, {len(set(docs))} documents in {time.time()-t0:.1f}s")

    params = dict(
        objective="multiclass", num_class=len(LABELS), learning_rate=args.lr, num_leaves=args.leaves,
        min_data_in_leaf=20, feature_fraction=0.8, bagging_fraction=0.8, bagging_freq=1,
        lambda_l2=1.0, num_threads=2, verbose=-1, seed=7,
    )
    weight = np.where(meta[:, 2] == "cord", args.cord_weight, 1.0).astype(np.float32)
    dtrain = lgb.Dataset(x[~valid], y[~valid], weight=weight[~valid], feature_name=names, free_raw_data=False)
    dvalid = lgb.Dataset(x[valid], y[valid], reference=dtrain)
    t0 = time.time()
    booster = lgb.train(params, dtrain, num_boost_round=args.rounds, valid_sets=[dvalid],
                        callbacks=[lgb.early_stopping(15, verbose=False), lgb.log_evaluation(20)])
    print(f"trained {booster.best_iteration or args.rounds} rounds in {time.time()-t0:.1f}s")
    pv = booster.predict(x[valid], num_iteration=booster.best_iteration).argmax(1)
    acc = float((pv == y[valid]).mean())
    not_other = y[valid] != 0
    acc_fields = float((pv[not_other] == y[valid][not_other]).mean())
    print(f"validation word accuracy {acc:.4f}, on labelled words {acc_fields:.4f}")

    os.makedirs(args.out, exist_ok=True)
    onx = convert_lightgbm(booster, initial_types=[("features", FloatTensorType([None, x.shape[1]]))],
                           zipmap=False, target_opset=15)
    # stable output names for the Rust side
    outputs = [o.name for o in onx.graph.output]
    onnx.save(onx, os.path.join(args.out, "model.onnx"))
    sess = ort.InferenceSession(os.path.join(args.out, "model.onnx"), providers=["CPUExecutionProvider"])
    sample = x[valid][:2000]
    p_onnx = sess.run(None, {"features": sample})[1]
    p_lgb = booster.predict(sample, num_iteration=booster.best_iteration)
    diff = float(np.abs(p_onnx - p_lgb).max())
    print(f"onnx outputs {outputs}; max |onnx - lightgbm| = {diff:.2e}")
    assert diff < 1e-3

    imp = sorted(zip(booster.feature_importance("gain"), names), reverse=True)[:15]
    print("top features:", ", ".join(f"{n}" for _, n in imp))
    manifest = f'''# Layout word classifier (see models/README.md for the contract).
name = "{args.name}"
version = "{args.version}"
feature_schema_version = {args.schema}
feature_count = {x.shape[1]}
features = {json.dumps(names)}
labels = {json.dumps(LABELS)}
input = "features"
input_shape = ["words", {x.shape[1]}]
output_label = "{outputs[0]}"
output_probabilities = "{outputs[1]}"
training_data = "{args.data_id}"
trained_with = "LightGBM {lgb.__version__}, {booster.best_iteration or args.rounds} rounds, {args.leaves} leaves, lr {args.lr}, CORD weight {args.cord_weight}; onnxmltools"

[validation]
# 10% of the training documents (train-split distributors), word level
word_accuracy = {acc:.4f}
labelled_word_accuracy = {acc_fields:.4f}
'''
    with open(os.path.join(args.out, "manifest.toml"), "w") as f:
        f.write(manifest)
    print("wrote", args.out, os.path.getsize(os.path.join(args.out, "model.onnx")) // 1024, "KiB")


if __name__ == "__main__":
    main()
