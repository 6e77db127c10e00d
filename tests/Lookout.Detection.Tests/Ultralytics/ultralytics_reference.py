#!/usr/bin/env python3
"""Independent reference for Ultralytics YOLOv8 exports: Ultralytics' letterbox and decoding, written from
Ultralytics' documented behaviour with OpenCV and numpy only. Shares no code with Lookout.

There is no ONNX Runtime for Python on the project's machines, so the model itself runs in the C# test
(a bare InferenceSession) between the two steps:

  ultralytics_reference.py png IMAGE OUT.png
      The image as OpenCV decodes it, saved losslessly, so that Lookout can be fed exactly the pixels the
      reference sees (JPEG decoders differ by a grey level here and there, which the dynamic INT8 model,
      quantising its activations per run, turns into score changes of a few hundredths).

  ultralytics_reference.py letterbox IMAGE WIDTH HEIGHT OUT.f32
      cv2.imread (BGR), LetterBox(new_shape=(H, W), auto=False, center=True, pad 114, INTER_LINEAR),
      BGR->RGB, HWC->CHW, /255: writes the 1x3xHxW float32 tensor the model takes.

  ultralytics_reference.py decode RAW.f32 CHANNELS ANCHORS IMAGE WIDTH HEIGHT CONF IOU OUT.json
      The model's raw output [1, 4+C, N] (cx, cy, w, h, class scores; no objectness), decoded as
      ultralytics.utils.nms.non_max_suppression does for predict (best class per anchor, score > CONF,
      class-aware NMS at IOU, at most 300), boxes mapped back with scale_boxes (gain and rounded pad of the
      letterbox above, then clipped). Writes {"detections": [{"class", "score", "box": [x1, y1, x2, y2]}]}.
"""
import json
import sys

import cv2
import numpy as np

PAD_VALUE = 114
MAX_DETECTIONS = 300


def letterbox_geometry(height, width, target_h, target_w):
    """Ultralytics LetterBox with auto=False, scaleup=True, center=True: (gain, new size, pads)."""
    gain = min(target_h / height, target_w / width)
    new_w, new_h = int(round(width * gain)), int(round(height * gain))
    dw, dh = (target_w - new_w) / 2, (target_h - new_h) / 2
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    return gain, (new_w, new_h), (top, bottom, left, right)


def letterbox(argv):
    image_path, width, height, out_path = argv[0], int(argv[1]), int(argv[2]), argv[3]
    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if image is None:
        sys.stderr.write(f"cannot read {image_path}\n")
        return 2
    h, w = image.shape[:2]
    _, new_size, (top, bottom, left, right) = letterbox_geometry(h, w, height, width)
    if (w, h) != new_size:
        image = cv2.resize(image, new_size, interpolation=cv2.INTER_LINEAR)
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    assert image.shape[:2] == (height, width), image.shape
    tensor = image[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0
    np.ascontiguousarray(tensor[None], dtype="<f4").tofile(out_path)
    return 0


def to_png(argv):
    image = cv2.imread(argv[0], cv2.IMREAD_COLOR)
    if image is None:
        sys.stderr.write(f"cannot read {argv[0]}\n")
        return 2
    return 0 if cv2.imwrite(argv[1], image) else 2


def box_iou(box, boxes):
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + areas - inter + 1e-9)


def nms(boxes, scores, iou_threshold):
    """Greedy NMS (what torchvision.ops.nms computes), returning kept indices by descending score."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        if order.size == 1:
            break
        ious = box_iou(boxes[i], boxes[order[1:]])
        order = order[1:][ious <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def decode(argv):
    raw_path, channels, anchors, image_path = argv[0], int(argv[1]), int(argv[2]), argv[3]
    width, height, conf, iou, out_path = int(argv[4]), int(argv[5]), float(argv[6]), float(argv[7]), argv[8]
    prediction = np.fromfile(raw_path, dtype="<f4")
    if prediction.size != channels * anchors:
        sys.stderr.write(f"{raw_path} holds {prediction.size} floats, expected {channels}x{anchors}\n")
        return 2
    rows = prediction.reshape(channels, anchors).T          # N x (4 + C)
    class_scores = rows[:, 4:]
    cls = class_scores.argmax(1)
    score = class_scores[np.arange(len(rows)), cls]
    mask = score > conf
    rows, cls, score = rows[mask], cls[mask], score[mask]
    xy, wh = rows[:, :2], rows[:, 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
    # Class-aware NMS in one pass: each class's boxes are shifted far apart (Ultralytics' max_wh offset).
    offset = cls[:, None].astype(np.float32) * 7680.0
    keep = nms(boxes + offset, score, iou)[:MAX_DETECTIONS]
    boxes, cls, score = boxes[keep], cls[keep], score[keep]

    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    # scale_boxes: pad from the same rounding as the letterbox, then divide by the gain and clip.
    gain = min(height / h, width / w)
    pad_x = round((width - w * gain) / 2 - 0.1)
    pad_y = round((height - h * gain) / 2 - 0.1)
    boxes = boxes.copy()
    boxes[:, [0, 2]] -= pad_x
    boxes[:, [1, 3]] -= pad_y
    boxes /= gain
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)

    detections = [{"class": int(c), "score": float(s), "box": [float(v) for v in b]} for b, c, s in zip(boxes, cls, score)]
    with open(out_path, "w") as f:
        json.dump({"image_width": w, "image_height": h, "detections": detections}, f)
    return 0


def main(argv):
    commands = {"png": to_png, "letterbox": letterbox, "decode": decode}
    if len(argv) < 2 or argv[1] not in commands:
        sys.stderr.write(__doc__)
        return 2
    return commands[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
