"""Independent reference for Lookout's letterbox resize: cv2.resize(INTER_LINEAR) of a PNG, written as raw BGR bytes."""
import sys
import cv2

src, width, height, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
image = cv2.imread(src, cv2.IMREAD_COLOR)  # BGR
resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
open(out, "wb").write(resized.tobytes())
