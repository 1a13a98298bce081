"""Save a model directory as the MLflow pyfunc that the registry stores (pipeline/deploy/pyfunc_model.py).

Why the registered version is the pyfunc itself, with the plain model directory inside it
(`artifacts/model_dir/`): one stored copy serves every consumer. `mlflow.pyfunc.load_model` and
`mlflow models serve` read the MLmodel; `registry.download_version` returns the inner directory,
and `make archive` packs exactly those files, including the ONNX int8 export made here, so the
ONNX file TorchServe runs is byte for byte the one the pyfunc runs.

The signature and the input example come from running the loaded pyfunc on two prompts, so
they describe what the model really returns; a directory that does not load is refused here.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.deploy.archive import MODEL_SRC, ONNX_FILE, local_version, model_config_yaml
from pipeline.deploy.pyfunc_model import MODEL_DIR_ARTIFACT, SETTINGS_FILE, IntentPyfunc

log = logging.getLogger(__name__)

PYFUNC_CODE = PROJECT_ROOT / "pipeline" / "deploy" / "pyfunc_model.py"
INPUT_EXAMPLE = ["Write a Python function that merges two sorted lists",
                 "Summarize this article in three bullet points: the council met on Tuesday..."]
# what model_src and the pyfunc file import (exact pins from requirements.txt)
RUNTIME_PACKAGES = ("mlflow", "torch", "transformers", "tokenizers", "sentencepiece", "safetensors",
                    "numpy", "scipy", "onnxruntime", "pyyaml")


def pinned_requirements(names: tuple[str, ...] = RUNTIME_PACKAGES) -> list[str]:
    """The `name==version` lines of requirements.txt for names."""
    pins = {}
    for line in (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            pins[name.lower()] = f"{name}=={version}"
    return [pins[name] for name in names]


def stage_model_dir(model_dir: Path, params: dict, staging: Path) -> Path:
    """A copy of model_dir plus the handler settings and, for serve.runtime onnx, the int8 export
    (when the export fails, as for some DeBERTa variants, the settings say runtime torch)."""
    staged = staging / MODEL_DIR_ARTIFACT
    shutil.copytree(model_dir, staged, ignore=shutil.ignore_patterns(ONNX_FILE, SETTINGS_FILE))
    config = model_config_yaml(params)
    if config["handler"]["serve"].get("runtime", "torch") == "onnx":
        from pipeline.modeling.onnx_export import export_onnx

        try:
            export_onnx(model_dir, staged / ONNX_FILE)
        except Exception as exc:  # noqa: BLE001 - as make archive: an encoder the exporter cannot trace runs torch
            log.warning("ONNX export failed (%s: %s): the pyfunc runs with runtime torch", type(exc).__name__, exc)
            config["handler"]["serve"] = {**config["handler"]["serve"], "runtime": "torch"}
    (staged / SETTINGS_FILE).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return staged


def save_pyfunc(model_dir: Path, dst: Path, params: dict | None = None) -> Path:
    """Write the pyfunc of model_dir to dst (an MLflow model directory); returns dst."""
    import mlflow
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, DataType, Schema

    params = params or load_params()
    model_version = local_version(model_dir)
    with tempfile.TemporaryDirectory(prefix="pyfunc-") as tmp:
        staged = stage_model_dir(Path(model_dir), params, Path(tmp))
        probe = IntentPyfunc()
        probe.load(staged, model_version)
        answers = probe.predict(None, {"text": INPUT_EXAMPLE})
        signature = ModelSignature(inputs=Schema([ColSpec(DataType.string, "text")]),
                                   outputs=infer_signature(INPUT_EXAMPLE, answers).outputs)
        mlflow.pyfunc.save_model(
            str(dst),
            python_model=str(PYFUNC_CODE),
            artifacts={MODEL_DIR_ARTIFACT: str(staged)},
            code_paths=[str(MODEL_SRC)],
            model_config={"model_version": model_version},
            signature=signature,
            input_example=[{"text": text} for text in INPUT_EXAMPLE],  # records: a DataFrame with a text column
            pip_requirements=pinned_requirements(),
        )
    log.info("saved pyfunc of %s to %s (model_version %s)", model_dir, dst, model_version)
    return dst
