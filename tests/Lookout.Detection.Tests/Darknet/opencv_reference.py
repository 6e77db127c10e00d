#!/usr/bin/env python3
"""Runs a Darknet model through OpenCV DNN as an independent reference for the C# importer tests.

Usage: opencv_reference.py CFG WEIGHTS INPUT.f32 N,C,H,W OUT_DIR [LAYER_NAME ...]

INPUT.f32 holds the raw little-endian float32 input tensor. OpenCV's unconnected outputs (the
[yolo] layers, rows (y, x, anchor) of cx, cy, w, h normalised to 0..1, objectness, objectness x class
probability) are written, then for each yolo_K the raw head input permute_K (1 x G x G x A*(5+C)),
then any extra layers named on the command line (OpenCV's own layer names). Each output becomes
OUT_DIR/<n>.f32 and OUT_DIR/outputs.json lists {name, shape, file}.
"""
import json
import os
import sys

import cv2
import numpy as np


def main(argv):
    if len(argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    cfg, weights, input_path, shape_text, out_dir = argv[1:6]
    extra_layers = argv[6:]
    shape = [int(s) for s in shape_text.split(",")]
    blob = np.fromfile(input_path, dtype="<f4")
    if blob.size != int(np.prod(shape)):
        sys.stderr.write(f"{input_path} holds {blob.size} floats, shape {shape} needs {int(np.prod(shape))}\n")
        return 2
    blob = blob.reshape(shape)

    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    outs = list(net.getUnconnectedOutLayersNames())
    # OpenCV puts a Permute (NCHW -> NHWC) named permute_K before each yolo_K: its output is the
    # head's raw conv output, which is compared before any decoding.
    layer_names = set(net.getLayerNames())
    raw_heads = [n.replace("yolo_", "permute_", 1) for n in outs if n.startswith("yolo_")]
    names = outs + [n for n in raw_heads if n in layer_names] + extra_layers
    net.setInput(blob)
    outputs = net.forward(names)

    os.makedirs(out_dir, exist_ok=True)
    listing = []
    for i, (name, out) in enumerate(zip(names, outputs)):
        out = np.ascontiguousarray(out, dtype="<f4")
        file_name = f"{i}.f32"
        out.tofile(os.path.join(out_dir, file_name))
        listing.append({"name": name, "shape": list(out.shape), "file": file_name})
    with open(os.path.join(out_dir, "outputs.json"), "w") as f:
        json.dump({"opencv": cv2.__version__, "outputs": listing}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
