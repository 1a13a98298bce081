"""Build the TorchServe archive (.mar) of a model directory: validate, stage, torch-model-archiver.

    make archive                                  # MLflow alias champion -> model_store/intent_classifier.mar
    make archive MODEL=models/intent_classifier VERSION=7 MAR_NAME=intent_classifier_v7

What goes in (flat at the archive root unless noted), and why:
- --model-file model_src/intent_classifier_model.py, --handler handlers/intent_handler.py,
  --serialized-file model.safetensors (weights, no pickle; when the archive serves with ONNX the
  torch weights only explain and are stored int8 per row / fp16, model_src/weight_storage.py:
  101 -> ~47 MB);
- --extra-files: model_config.json (architecture + labels), tokenizer files, calibration.json,
  params.yaml and training_metrics.json of the model dir (provenance), the optional ONNX int8
  export (the registered version's own file when it has one, else exported here) with
  onnx_parity.json (its top-1 agreement with torch on the test split; below
  serve.onnx_min_top1_agreement the archive serves with runtime torch), and model_src/ whole
  (the handler imports nothing else of the project, so nothing can be left out);
- --config-file: serve_config/model-config.yaml plus, under `handler:`, the `serve`,
  `techniques` and `monitor` sections of params.yaml, so settings live in params.yaml only.
Every input is checked first; a missing or broken file fails naming it, before anything is built.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT, check_safe_name, load_params, resolve_path

HANDLER_FILE = PROJECT_ROOT / "handlers" / "intent_handler.py"
MODEL_CONFIG_TEMPLATE = PROJECT_ROOT / "serve_config" / "model-config.yaml"
# everything the handler imports from the project; packed whole, next to the handler
MODEL_SRC = PROJECT_ROOT / "model_src"
MODEL_FILE = MODEL_SRC / "intent_classifier_model.py"
WEIGHTS = "model.safetensors"
REQUIRED = ("model.safetensors", "model_config.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
                   "spm.model", "sentencepiece.bpe.model", "added_tokens.json")
OPTIONAL = ("calibration.json", "params.yaml", "training_metrics.json")
ONNX_FILE = "model.int8.onnx"


class ArchiveError(ValueError):
    """An input of the archive is missing or broken (the message names it)."""


@dataclass
class ArchiveRequest:
    model_dir: Path
    version: str
    model_name: str = "intent_classifier"
    mar_name: str | None = None  # file name without .mar; default: model_name
    model_store: Path = PROJECT_ROOT / "model_store"
    onnx: bool = False  # include the ONNX int8 export (always when serve.runtime is onnx)
    parity_file: Path | None = None  # JSONL with "text": ONNX vs torch top-1 agreement gate
    force: bool = True

    def __post_init__(self) -> None:
        """Version and names become file names and URL parts: refused before any path is built."""
        try:
            check_safe_name(str(self.version), "archive version")
            check_safe_name(self.model_name, "model name")
            if self.mar_name is not None:
                check_safe_name(self.mar_name, "archive name")
        except ValueError as exc:
            raise ArchiveError(str(exc)) from None


def validate_model_dir(model_dir: Path, params: dict) -> dict:
    """Check every file serving reads; returns model_config.json. Raises ArchiveError naming the file."""
    if not model_dir.is_dir():
        raise ArchiveError(f"model directory not found: {model_dir}")
    for name in REQUIRED:
        if not (model_dir / name).is_file():
            raise ArchiveError(f"{model_dir / name} is missing: not a model directory written by training")
    if not (model_dir / "tokenizer_config.json").is_file():
        raise ArchiveError(f"{model_dir / 'tokenizer_config.json'} is missing: the tokenizer was not saved with the model")
    config_path = model_dir / "model_config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{config_path}: not valid JSON ({exc})") from exc
    for key in ("intents", "complexity_levels", "feature_names", "max_length", "encoder"):
        if key not in config:
            raise ArchiveError(f"{config_path}: field {key!r} is missing")
    missing = [i for i in config["intents"] if i not in params.get("techniques", {})]
    if missing:
        raise ArchiveError(f"params.yaml 'techniques' has no entry for intents {missing} of {config_path}")
    try:
        from safetensors import safe_open

        with safe_open(str(model_dir / WEIGHTS), framework="pt") as fh:
            fh.keys()
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types for a broken header
        raise ArchiveError(f"{model_dir / WEIGHTS}: not a readable safetensors file ({exc})") from exc
    if config["feature_names"]:
        from model_src.features import FEATURE_NAMES

        if list(FEATURE_NAMES) != list(config["feature_names"]):
            raise ArchiveError(
                f"{config_path}: trained with features {config['feature_names']}, model_src/features.py "
                f"now computes {list(FEATURE_NAMES)}: retrain the model"
            )
    calibration = model_dir / "calibration.json"
    if calibration.is_file():
        from model_src.calibration import load_temperature

        try:
            load_temperature(model_dir)
        except ValueError as exc:
            raise ArchiveError(str(exc)) from exc
    # the real loaders, as the worker will call them: shapes, tokenizer files, config values
    from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

    try:
        IntentClassifier.from_pretrained(model_dir)
        load_tokenizer(model_dir, int(config["max_length"]))
    except Exception as exc:  # noqa: BLE001 - report any load failure with the directory
        raise ArchiveError(f"{model_dir}: the model does not load ({type(exc).__name__}: {exc})") from exc
    return config


# types of the params.yaml `serve` values the handler reads at worker start: a wrong type must fail
# here, naming the key, not as TorchServe's "Failed to start workers" at registration
SERVE_TYPES = {
    "runtime": (str,), "model_name": (str,), "max_text_chars": (int,), "max_batch_texts": (int,),
    "cache_ttl_seconds": (int,), "explain_n_steps": (int,), "explain_max_n_steps": (int,),
    "explain_max_texts": (int,), "explain_budget_token_steps": (int,), "explain_deadline_seconds": (int, float),
    "explain_internal_batch_size": (int,), "explain_workers": (int,), "top_k": (int,), "redis_url": (str, type(None)),
    "low_confidence_threshold": (int, float, type(None)), "cache_enabled": (bool,),
    "onnx_min_top1_agreement": (int, float), "async_backend": (bool,),
}


def check_serve_params(params: dict) -> None:
    """Raise ArchiveError naming params.yaml serve.<key> when a value has the wrong type."""
    serve = params.get("serve")
    if not isinstance(serve, dict):
        raise ArchiveError(f"params.yaml 'serve' must be a mapping, got {type(serve).__name__}")
    for key, types in SERVE_TYPES.items():
        value = serve.get(key)
        if key in serve and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ArchiveError(f"params.yaml serve.{key} must be {names}, got {value!r}")


def model_config_yaml(params: dict, template: Path = MODEL_CONFIG_TEMPLATE) -> dict:
    """serve_config/model-config.yaml with params' serve/techniques/monitor under `handler:`."""
    if not template.is_file():
        raise ArchiveError(f"{template} is missing")
    config = yaml.safe_load(template.read_text(encoding="utf-8")) or {}
    handler = dict(config.get("handler") or {})
    handler.update(
        serve=params.get("serve", {}),
        techniques=params.get("techniques", {}),
        monitor=params.get("monitor", {}),
    )
    config["handler"] = handler
    if params.get("serve", {}).get("async_backend"):  # TorchServe's async mode: the handler batches (coalescer)
        config["asyncCommunication"], config["batchSize"] = True, 1
    return config


def stage(request: ArchiveRequest, params: dict, staging: Path) -> dict[str, object]:
    """Lay out the extra files and config in `staging`; returns torch-model-archiver's arguments."""
    extra: list[Path] = []
    for name in ("model_config.json", *TOKENIZER_FILES, *OPTIONAL):
        if (request.model_dir / name).is_file():
            extra.append(request.model_dir / name)
    packages = staging / "packages"
    shutil.copytree(MODEL_SRC, packages / "model_src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    extra.append(packages)  # a directory: its contents land at the archive root (model_src/)
    runtime = params.get("serve", {}).get("runtime", "torch")
    if (request.onnx or runtime == "onnx") and not stage_onnx(request, params, staging, extra) and runtime == "onnx":
        runtime = "torch"
    weights = request.model_dir / WEIGHTS
    if runtime == "onnx":  # the torch weights only explain: stored int8/fp16 (model_src/weight_storage.py)
        from model_src.intent_classifier_model import IntentClassifier
        from model_src.weight_storage import save_compressed

        (staging / "weights").mkdir()
        weights = save_compressed(IntentClassifier.from_pretrained(request.model_dir).state_dict(),
                                  staging / "weights" / WEIGHTS)
    config_file = staging / "model-config.yaml"
    config = model_config_yaml(params)
    config["handler"]["serve"] = {**config["handler"]["serve"], "runtime": runtime}
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return {"extra_files": extra, "config_file": config_file, "weights": weights}


def stage_onnx(request: ArchiveRequest, params: dict, staging: Path, extra: list[Path]) -> bool:
    """The version's own ONNX int8 file (the one its MLflow pyfunc runs) or a fresh export, parity
    checked; True when it is packed (appended to extra).

    A failed export (an encoder the exporter cannot trace, e.g. a DeBERTa variant) or a parity
    below the threshold leaves the archive on runtime torch, said loudly, rather than failing:
    the torch model is always in the archive, so serving stays correct.
    """
    from pipeline.modeling.onnx_export import export_onnx

    onnx_file = request.model_dir / ONNX_FILE
    try:
        if not onnx_file.is_file():
            onnx_file = export_onnx(request.model_dir, staging / ONNX_FILE)
    except Exception as exc:  # noqa: BLE001 - torch.onnx and the quantiser raise many types; any means no ONNX
        encoder = json.loads((request.model_dir / "model_config.json").read_text(encoding="utf-8"))["encoder"]
        reason = (str(exc).strip().splitlines() or ["no message"])[0]
        print(f"warning: ONNX export of this {encoder.get('model_type', 'unknown')} model failed "
              f"({type(exc).__name__}: {reason}); the archive is built without {ONNX_FILE} and serves with "
              "runtime torch", file=sys.stderr)
        return False
    if request.parity_file is None:
        extra.append(onnx_file)
        return True
    parity, parity_ok = check_onnx_parity(request, params, staging, onnx_file)
    extra.append(parity)
    if not parity_ok:
        print(f"warning: the ONNX export is not packed and this archive serves with runtime torch "
              f"(see {parity.name} in the archive)", file=sys.stderr)
        return False
    extra.append(onnx_file)
    return True


def check_onnx_parity(request: ArchiveRequest, params: dict, staging: Path, onnx_file: Path) -> tuple[Path, bool]:
    """Top-1 agreement of the int8 export with torch on parity_file -> (onnx_parity.json, passed).

    Below serve.onnx_min_top1_agreement the archive falls back to runtime torch (loudly) rather
    than failing: the torch model is always in the archive, so serving stays correct.
    """
    from pipeline.modeling.onnx_export import top1_agreement

    path = request.parity_file
    if not path.is_file():
        raise ArchiveError(f"{path} not found: the ONNX parity check needs it (run `make data`)")
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    figures = top1_agreement(request.model_dir, onnx_file, texts) | {"file": str(path)}
    threshold = float(params["serve"].get("onnx_min_top1_agreement", 0.99))
    figures |= {"threshold": threshold, "passed": figures["top1_agreement"] >= threshold}
    print(f"ONNX int8 vs torch top-1 agreement on {path.name}: {figures['top1_agreement']:.4f} "
          f"({figures['n']} texts, max probability gap {figures['max_prob_gap']:.4f}; threshold {threshold})")
    out = staging / "onnx_parity.json"
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return out, figures["passed"]


def build_archive(request: ArchiveRequest, params: dict | None = None) -> Path:
    """Validate, stage and run torch-model-archiver; returns the .mar path (replaced atomically)."""
    params = params or load_params()
    for path in (HANDLER_FILE, MODEL_FILE):
        if not path.is_file():
            raise ArchiveError(f"{path} is missing")
    check_serve_params(params)
    validate_model_dir(request.model_dir, params)
    mar_name = request.mar_name or request.model_name
    target = request.model_store / f"{mar_name}.mar"
    if target.exists() and not request.force:
        raise ArchiveError(f"{target} exists (pass --force to replace it)")
    request.model_store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="archive-") as tmp:
        staging = Path(tmp)
        staged = stage(request, params, staging)
        out_dir = staging / "out"
        out_dir.mkdir()
        cmd = [
            str(Path(sys.executable).with_name("torch-model-archiver")),
            "--model-name", request.model_name,
            "--version", str(request.version),
            "--model-file", str(MODEL_FILE),
            "--handler", str(HANDLER_FILE),
            "--serialized-file", str(staged["weights"]),
            "--extra-files", ",".join(str(p) for p in staged["extra_files"]),
            "--config-file", str(staged["config_file"]),
            "--export-path", str(out_dir),
            "--force",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        built = out_dir / f"{request.model_name}.mar"
        if result.returncode != 0 or not built.is_file():
            raise ArchiveError(f"torch-model-archiver failed ({result.returncode}):\n{result.stderr[-2000:]}")
        tmp_target = request.model_store / f".{mar_name}.mar.tmp"
        shutil.move(str(built), tmp_target)
        os.replace(tmp_target, target)
    return target


def local_version(model_dir: Path) -> str:
    """Version for a model dir that is not in the registry: 'local-' + 8 hex of its weights' sha256."""
    digest = hashlib.sha256()
    with (model_dir / WEIGHTS).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return f"local-{digest.hexdigest()[:8]}"


def champion_or_local(params: dict) -> tuple[str, Path, str]:
    """(version, model dir, where from): the MLflow alias `champion`, else paths.model_dir."""
    try:
        from pipeline.deploy.registry import resolve_alias

        version, model_dir = resolve_alias("champion", params)
        return version, model_dir, "MLflow registry alias champion"
    except (ImportError, KeyError) as exc:
        model_dir = resolve_path(params["paths"]["model_dir"])
        if not (model_dir / WEIGHTS).is_file():
            raise ArchiveError(
                f"no champion in the MLflow registry ({exc}) and no trained model in {model_dir}: "
                "run `make train` (and `make register`), or pass MODEL=<dir> VERSION=<x>"
            ) from exc
        return local_version(model_dir), model_dir, f"{model_dir} (no champion in the registry: {exc})"
