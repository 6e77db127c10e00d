#!/usr/bin/env python3
"""The table and the rule of bench/large-photos.sh, from its `lookout eval --json` files: large-photos-table.py OUT_DIR.

A candidate keeps AP on a data set when its AP, averaged over the set as given, enlarged 2x and enlarged 4x, is within
0.003 of the best candidate's average on that set; the rule is the fastest candidate that keeps AP on both sets.
Speed is compared within each eval run (the candidates took turns image by image, so their times come from the same
moments): decode + resize ms as a ratio to full-bilinear's in the same run, averaged over the six runs."""
import json
import sys

out = sys.argv[1]
datasets = {"val2017-dev": ["val-1x", "val-2x", "val-4x"], "coco128": ["coco128-1x", "coco128-2x", "coco128-4x"]}
runs = [r for rs in datasets.values() for r in rs]
rows, rules = {}, []
for run in runs:
    with open(f"{out}/eval-{run}.json") as f:
        for m in json.load(f)["models"]:
            rows[(run, m["input_rule"])] = m
            if m["input_rule"] not in rules:
                rules.append(m["input_rule"])


def ap(run, rule): return rows[(run, rule)]["stats"]["ap"]
def ap_small(run, rule): return rows[(run, rule)]["stats"]["ap_small"]
def ms(run, rule): return rows[(run, rule)]["decode_ms_per_image"] + rows[(run, rule)]["preprocess_ms_per_image"]
def fmt(v): return "—" if v < 0 else f"{v:.3f}"


print("| set | rule | AP | AP_small | decode ms | resize ms | decode + resize ms |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for run in runs:
    for rule in rules:
        m = rows[(run, rule)]
        print(f"| {run} | {rule} | {fmt(ap(run, rule))} | {fmt(ap_small(run, rule))} | {m['decode_ms_per_image']:.1f} | "
              f"{m['preprocess_ms_per_image']:.1f} | {ms(run, rule):.1f} |")
print()
mean = {(d, rule): sum(ap(r, rule) for r in rs) / len(rs) for d, rs in datasets.items() for rule in rules}
best = {d: max(mean[(d, rule)] for rule in rules) for d in datasets}
ratio = {rule: sum(ms(r, rule) / ms(r, "full-bilinear") for r in runs) / len(runs) for rule in rules}
print("| rule | " + " | ".join(f"{d}: mean AP (×1, ×2, ×4), vs best" for d in datasets) + " | keeps AP on both | decode + resize vs full-bilinear |")
print("| --- | " + " | ".join("---" for _ in datasets) + " | --- | --- |")
keeps = {}
for rule in rules:
    keeps[rule] = all(mean[(d, rule)] >= best[d] - 0.003 for d in datasets)
    cells = " | ".join(f"{mean[(d, rule)]:.4f} ({mean[(d, rule)] - best[d]:+.4f})" for d in datasets)
    print(f"| {rule} | {cells} | {'yes' if keeps[rule] else 'no'} | {ratio[rule]:.2f}× |")
kept = [rule for rule in rules if keeps[rule]]
print()
print("Rule: " + (min(kept, key=lambda rule: ratio[rule]) if kept else "none keeps AP on both sets"))
