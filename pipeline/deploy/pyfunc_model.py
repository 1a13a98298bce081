"""The intent classifier as an MLflow pyfunc: `mlflow.pyfunc.load_model("models:/intent_classifier@champion")`
and `mlflow models serve -m models:/intent_classifier@champion` answer with the service's own object.

MLflow logs this file as the model's code ("models from code", so no pickle) next to `model_src/`
(`code_paths`), and runs it on load: it imports only mlflow and model_src, which is all a clean
environment needs besides the pinned packages. The model's artefact `model_dir` holds the weights,
tokenizer, calibration.json, the ONNX int8 export and `model-config.yaml` (the handler settings
of the archive), and `model_src.runtime.ServedModel` loads it exactly as the TorchServe handler
does: same runtime (ONNX int8 or torch), same length buckets, same temperature, same answer.

Input: a DataFrame with a `text` column (MLflow turns records [{"text": ...}, ...] into one). Output: one answer per row, the
API's object (docs/architecture.md, "The answer"); a text the API would refuse (empty, too long)
gets the API's error object {"error", "code": 400} in its place. `model_version` is the model
config's `model_version`: the weights' id `local-<sha8>` written at registration (the registry
number is assigned after the files are stored); `load_model(uri, model_config={"model_version": "3"})`
names it otherwise.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import yaml
from mlflow.pyfunc import PythonModel

from model_src.responses import build_answers, check_text, error_body, handler_settings
from model_src.runtime import ServedModel, bucketed_forward

MODEL_DIR_ARTIFACT = "model_dir"
SETTINGS_FILE = "model-config.yaml"


class IntentPyfunc(PythonModel):
    """Loads a model directory as the service does; predict(texts) -> the API's answers."""

    def load_context(self, context) -> None:
        self.load(Path(context.artifacts[MODEL_DIR_ARTIFACT]), (context.model_config or {}).get("model_version", "unversioned"))

    def load(self, model_dir: Path, model_version: str) -> None:
        config = yaml.safe_load((model_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
        self.settings = handler_settings(config)
        self.served = ServedModel.load(model_dir, self.settings)
        self.model_version = str(model_version)

    def predict(self, context, model_input, params=None) -> list[dict]:
        values = list(model_input["text"])
        checked = [check_text(value, self.settings["max_chars"]) for value in values]
        texts = [text for text, problem in checked if problem is None]
        answers = iter(self.answers(texts))
        return [error_body(problem) if problem else next(answers) for _, problem in checked]

    def answers(self, texts: list[str]) -> list[dict]:
        if not texts:
            return []
        s, served = self.settings, self.served
        probs, level_probs, scores = bucketed_forward(
            served.tokenize(texts), served.features(texts), served.run_single if len(texts) == 1 else served.run,
            temperature=served.temperature,
            pad_id=served.pad_id, max_rows=s["bucket_max_rows"], max_ratio=s["bucket_max_ratio"],
        )
        return build_answers(probs, level_probs, scores, intents=served.intents, levels=served.levels,
                             settings=s, model_version=self.model_version)


mlflow.models.set_model(IntentPyfunc())
