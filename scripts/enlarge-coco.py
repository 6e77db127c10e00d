#!/usr/bin/env python3
"""Writes an enlarged copy of a COCO image folder and its instances JSON (boxes, areas and polygons scaled), so the
large-image paths of Lookout run on labelled photos: `scripts/enlarge-coco.py SRC_IMAGES SRC_JSON FACTOR OUT_DIR`.
The copy goes to OUT_DIR/images and OUT_DIR/instances.json (keep it out of the repository: /tmp or test-output).
Images are enlarged with bicubic interpolation and saved as JPEG quality 95."""
import json
import os
import sys

import cv2


def main(src_images, src_json, factor, out_dir):
    factor = float(factor)
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    with open(src_json) as f:
        coco = json.load(f)
    for image in coco["images"]:
        pixels = cv2.imread(os.path.join(src_images, image["file_name"]), cv2.IMREAD_COLOR)
        h, w = pixels.shape[:2]
        size = (round(w * factor), round(h * factor))
        big = cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(os.path.join(out_dir, "images", image["file_name"]), big, [cv2.IMWRITE_JPEG_QUALITY, 95])
        image["width"], image["height"] = size
    for ann in coco["annotations"]:
        ann["bbox"] = [v * factor for v in ann["bbox"]]
        ann["area"] = ann["area"] * factor * factor
        seg = ann.get("segmentation")
        if isinstance(seg, list):
            ann["segmentation"] = [[v * factor for v in poly] for poly in seg]
        elif isinstance(seg, dict):
            # Crowd RLE masks stay at the original size; the bbox metric only reads bbox, area and iscrowd.
            pass
    with open(os.path.join(out_dir, "instances.json"), "w") as f:
        json.dump(coco, f)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
