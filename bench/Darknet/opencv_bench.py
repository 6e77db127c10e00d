#!/usr/bin/env python3
"""Median OpenCV DNN forward latency for a Darknet model. Usage: opencv_bench.py CFG WEIGHTS IMAGE RUNS

Prints one line: median_ms=<float> (the forward pass only; the blob is made once)."""
import statistics
import sys
import time

import cv2


def main(cfg, weights, image, runs):
    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    width = height = None
    with open(cfg) as f:
        for line in f:
            key, _, value = line.partition("=")
            if key.strip() == "width" and width is None:
                width = int(value)
            if key.strip() == "height" and height is None:
                height = int(value)
    blob = cv2.dnn.blobFromImage(cv2.imread(image), 1 / 255.0, (width, height), swapRB=True)
    names = net.getUnconnectedOutLayersNames()
    for _ in range(5):
        net.setInput(blob)
        net.forward(names)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        net.setInput(blob)
        net.forward(names)
        times.append((time.perf_counter() - start) * 1000)
    print(f"median_ms={statistics.median(times):.3f} threads={cv2.getNumThreads()} opencv={cv2.__version__}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
