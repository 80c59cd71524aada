"""An optional local injection classifier: a sequence-classification model the
operator supplies as ONNX, run through onnxruntime with its Hugging Face
`tokenizer.json` (nothing is bundled or downloaded).

The model directory (CHAT_INJECTION_CLASSIFIER_PATH) holds `model.onnx`,
`tokenizer.json` and optionally `config.json`, whose `id2label` names the
positive class (a label containing "injection", "jailbreak", "unsafe" or
"malicious"; otherwise class 1). The model takes `input_ids` and, if it declares
them, `attention_mask` and `token_type_ids`, and returns logits of shape
(1, labels). A long message is read in windows of the model's length (at most
MAX_WINDOWS), and its score is the highest window's.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

__all__ = ["Classifier", "ClassifierUnavailable", "get_classifier"]

MAX_WINDOWS = 4
_POSITIVE = ("injection", "jailbreak", "unsafe", "malicious", "attack")


class ClassifierUnavailable(Exception):
    """The classifier's packages or model files are missing or unusable."""


class Classifier:
    """One loaded model: `probability(text)` that the text is an injection."""

    def __init__(self, directory: Path, *, max_tokens: int = 512) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ClassifierUnavailable(
                f"install onnxruntime and tokenizers to use the classifier ({exc})"
            ) from exc
        model, vocabulary = directory / "model.onnx", directory / "tokenizer.json"
        for required in (model, vocabulary):
            if not required.is_file():
                raise ClassifierUnavailable(f"{required} is missing")
        try:
            self._tokenizer = Tokenizer.from_file(str(vocabulary))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a corrupt file is the operator's to fix
            raise ClassifierUnavailable(f"cannot load {directory}: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens, stride=max_tokens // 8)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._positive = _positive_index(directory / "config.json")

    def probability(self, text: str) -> float:
        """The highest probability of the positive class over the text's windows."""
        import numpy

        encoding = self._tokenizer.encode(text)
        windows = [encoding, *encoding.overflowing][:MAX_WINDOWS]
        best = 0.0
        for window in windows:
            ids = numpy.asarray([window.ids], dtype=numpy.int64)
            feed = {"input_ids": ids}
            if "attention_mask" in self._inputs:
                feed["attention_mask"] = numpy.asarray(
                    [window.attention_mask], dtype=numpy.int64
                )
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = numpy.zeros_like(ids)
            logits = self._session.run(None, feed)[0][0]
            best = max(best, _softmax(list(map(float, logits)))[self._positive])
        return best


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(value - top) for value in logits]
    total = sum(exps)
    return [value / total for value in exps]


def _positive_index(config: Path) -> int:
    if not config.is_file():
        return 1
    try:
        labels = json.loads(config.read_text()).get("id2label") or {}
    except (ValueError, OSError) as exc:
        raise ClassifierUnavailable(f"{config} is unreadable: {exc}") from exc
    for index, label in labels.items():
        if any(word in str(label).lower() for word in _POSITIVE):
            return int(index)
    return 1


@lru_cache(maxsize=2)
def get_classifier(path: str) -> Classifier:
    """The classifier of a model directory, loaded once per process."""
    if not path:
        raise ClassifierUnavailable("CHAT_INJECTION_CLASSIFIER_PATH is not set")
    return Classifier(Path(path))
