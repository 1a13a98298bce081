"""Optuna hyper-parameter search over `pipeline.modeling.train.run_training`, tracked in MLflow.

    python scripts/train_intent_classifier.py --hyperparameter-search --n-trials 10
    make hpo N_TRIALS=10

Search space: params `hpo.search_space` (name -> {low, high[, log]} or a list of choices); each
name is a key of params' `train` or `model` section (or written `section.key`). Objective:
validation weighted F1; every epoch's value is reported to Optuna and the MedianPruner stops
trials that fall below the median of earlier trials at the same epoch. Trials are cheaper than a
full training: `hpo.epochs` epochs on at most `hpo.max_train_samples` training rows.

Storage: an SQLite file by default. The study is loaded if it exists, so rerunning continues it
(trial numbers go on; `n_trials` is the study's target of finished trials, so a killed run
finishes the remainder). A PostgreSQL URL lets many workers on many machines share one study
(SQLite locks under parallel writers). MLflow: one parent run per study (its id kept in the
study, so reruns and other workers log under the same parent), one nested run per trial
(logged by run_training; the trial number and state are tagged here); the parent gets the best
params, the trial table and optimisation-history / parameter-importance PNGs.

The best params go to `hpo.best_params_file`; `--use-best-params` (`make train BEST=1`) trains
with them. The best trial's model directory is kept, the others are deleted.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import merged, resolve_path
from pipeline.progress import progress_bar

log = logging.getLogger(__name__)

PARENT_RUN_ATTR = "mlflow_parent_run_id"
TUNABLE_SECTIONS = ("train", "model")
OBJECTIVE_KEY = "weighted_f1"  # key of run_training's per-epoch validation metrics

TrainFn = Callable[..., dict]


# -----------------------------------------------------------------------------
# search space


def param_target(name: str, params: dict) -> tuple[str, str]:
    """(section, key) in params.yaml that a search-space name sets."""
    if "." in name:
        section, key = name.split(".", 1)
        if section not in TUNABLE_SECTIONS or key not in (params.get(section) or {}):
            raise ValueError(f"hpo.search_space.{name}: {section}.{key} is not a key of params {TUNABLE_SECTIONS}")
        return section, key
    found = [s for s in TUNABLE_SECTIONS if name in (params.get(s) or {})]
    if len(found) != 1:
        where = "both " + " and ".join(found) if found else "neither " + " nor ".join(TUNABLE_SECTIONS)
        raise ValueError(f"hpo.search_space.{name}: key found in {where}; write it as <section>.{name}")
    return found[0], name


def check_search_space(params: dict) -> dict[str, Any]:
    """The search space, validated before any trial starts."""
    space = (params.get("hpo") or {}).get("search_space")
    if not isinstance(space, dict) or not space:
        raise ValueError("hpo.search_space must be a non-empty mapping (name -> range or list of choices)")
    for name, spec in space.items():
        param_target(name, params)
        if isinstance(spec, list):
            if not spec:
                raise ValueError(f"hpo.search_space.{name}: empty list of choices")
        elif isinstance(spec, dict):
            if "low" not in spec or "high" not in spec:
                raise ValueError(f"hpo.search_space.{name}: a range needs 'low' and 'high', got {sorted(spec)}")
            if not float(spec["low"]) < float(spec["high"]):
                raise ValueError(f"hpo.search_space.{name}: low {spec['low']} must be < high {spec['high']}")
            if spec.get("log") and float(spec["low"]) <= 0:
                raise ValueError(f"hpo.search_space.{name}: a log range needs low > 0")
        else:
            raise ValueError(f"hpo.search_space.{name}: expected {{low, high[, log]}} or a list, got {spec!r}")
    return space


def suggest(trial, space: dict[str, Any]) -> dict[str, Any]:
    """Ask the trial for a value of every search-space entry."""
    values = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            values[name] = trial.suggest_categorical(name, spec)
        elif all(isinstance(spec[k], int) for k in ("low", "high")) and not spec.get("log"):
            values[name] = trial.suggest_int(name, spec["low"], spec["high"], step=int(spec.get("step", 1)))
        else:
            values[name] = trial.suggest_float(name, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log")))
    return values


def overrides_for(values: dict[str, Any], params: dict) -> dict[str, dict[str, Any]]:
    """Search-space values as params.yaml section overrides ({'train': {'learning_rate': ...}})."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        section, key = param_target(name, params)
        out.setdefault(section, {})[key] = value
    return out


def trial_params(params: dict, values: dict[str, Any], threads: int | None = None) -> dict:
    """params for one trial: the suggested values plus the cheaper HPO budget (and torch threads)."""
    hpo = params["hpo"]
    budget = {"epochs": int(hpo["epochs"]), "checkpoint_every_steps": 0}
    if hpo.get("max_train_samples"):
        budget["max_train_samples"] = int(hpo["max_train_samples"])
    if threads:
        budget["num_threads"] = int(threads)
    out = merged(params, overrides_for(values, params))
    return merged(out, {"train": budget})


# -----------------------------------------------------------------------------
# storage, study, MLflow parent


def storage_url(params: dict, storage: str | None = None) -> str:
    """params' storage (or the given one) with a relative SQLite path anchored at the repo root."""
    url = storage or params["hpo"]["storage"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = "sqlite:///" + str(resolve_path(url[len("sqlite:///"):]))
    return url


def masked(url: str) -> str:
    """The URL with any password hidden (it goes into logs, tags and the best-params file)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def make_storage(url: str, heartbeat_seconds: int | None):
    """RDB storage with a heartbeat: a trial whose worker was killed is failed (and retried once)."""
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    if not heartbeat_seconds:
        return optuna.storages.RDBStorage(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            heartbeat_interval=int(heartbeat_seconds),
            grace_period=3 * int(heartbeat_seconds),
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
        )


def create_study(params: dict, storage: str | None = None, study_name: str | None = None, worker_id: int = 0):
    import optuna

    hpo = params["hpo"]
    pruner_cfg = hpo.get("pruner") or {}
    sampler_cfg = hpo.get("sampler") or {}
    url = storage_url(params, storage)
    return optuna.create_study(
        storage=make_storage(url, hpo.get("heartbeat_seconds")),
        study_name=study_name or hpo["study_name"],
        direction="maximize",
        load_if_exists=True,
        # workers get different seeds, else two workers would propose the same random start points
        sampler=optuna.samplers.TPESampler(
            seed=int(params["seed"]) + worker_id, n_startup_trials=int(sampler_cfg.get("n_startup_trials", 4))
        ),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=int(pruner_cfg.get("n_startup_trials", 3)),
            n_warmup_steps=int(pruner_cfg.get("n_warmup_steps", 0)),
        ),
    )


def parent_run_id(study, params: dict, url: str) -> str:
    """The study's MLflow parent run: created once, its id stored in the study for reruns/workers."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from pipeline.modeling.tracking import setup_mlflow

    experiment_id = setup_mlflow(params)
    client = MlflowClient()
    existing = study.user_attrs.get(PARENT_RUN_ATTR)
    if existing:
        try:
            client.get_run(existing)
            return existing
        except MlflowException:
            log.warning("parent run %s of study %s is gone: creating a new one", existing, study.study_name)
    run = client.create_run(
        experiment_id,
        run_name=f"hpo {study.study_name}",
        tags={"purpose": "hpo", "optuna.study_name": study.study_name, "optuna.storage": masked(url)},
    )
    # two workers starting together: the id read back from storage wins, an unused run is deleted
    # (user_attrs is read from the storage on every access)
    if not study.user_attrs.get(PARENT_RUN_ATTR):
        study.set_user_attr(PARENT_RUN_ATTR, run.info.run_id)
    winner = study.user_attrs[PARENT_RUN_ATTR]
    if winner != run.info.run_id:
        client.delete_run(run.info.run_id)
    return winner


# -----------------------------------------------------------------------------
# objective


def _trial_dir(params: dict, study_name: str, number: int) -> Path:
    return resolve_path(params["hpo"]["output_dir"]) / study_name / f"trial_{number:03d}"


def make_objective(params: dict, train_fn: TrainFn, parent_id: str | None, study_name: str, threads: int | None = None):
    """objective(trial) -> best validation weighted F1 of one run_training with the trial's values."""
    import optuna

    space = check_search_space(params)

    def objective(trial: optuna.Trial) -> float:
        values = suggest(trial, space)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        out_dir = _trial_dir(params, study_name, trial.number)
        tparams = trial_params(params, values, threads)
        log.info("trial %d: %s", trial.number, values)

        def on_epoch_end(epoch: int, val_metrics: dict) -> None:
            if OBJECTIVE_KEY not in val_metrics:
                raise KeyError(f"run_training's validation metrics lack {OBJECTIVE_KEY!r}: {sorted(val_metrics)}")
            _tag_active_run(trial, study_name)
            trial.report(float(val_metrics[OBJECTIVE_KEY]), step=epoch)
            if trial.should_prune():
                log.info("trial %d pruned after epoch %d (val weighted F1 %.4f)", trial.number, epoch + 1,
                         val_metrics[OBJECTIVE_KEY])
                _tag_active_run(trial, study_name, state="PRUNED")
                raise optuna.TrialPruned(f"epoch {epoch + 1}: {val_metrics[OBJECTIVE_KEY]:.4f} below the median")

        t0 = time.time()
        result = train_fn(
            tparams, output_dir=out_dir, on_epoch_end=on_epoch_end,
            mlflow_parent_run_id=parent_id, log_to_mlflow=parent_id is not None,
        )
        trial.set_user_attr("seconds", round(time.time() - t0, 1))
        trial.set_user_attr("model_dir", str(result.get("model_dir", out_dir)))
        trial.set_user_attr("epochs_run", result.get("epochs_run"))
        if result.get("process_cpu_seconds") is not None:  # cumulative for this worker process
            trial.set_user_attr("process_cpu_seconds", result["process_cpu_seconds"])
        for split in ("test", "realistic_test", "realistic_dev"):
            if isinstance(result.get(split), dict) and OBJECTIVE_KEY in result[split]:
                trial.set_user_attr(f"{split}_{OBJECTIVE_KEY}", result[split][OBJECTIVE_KEY])
                trial.set_user_attr(f"{split}_accuracy", result[split].get("accuracy"))
        if result.get("run_id"):
            trial.set_user_attr("mlflow_run_id", result["run_id"])
            from mlflow import MlflowClient

            MlflowClient().set_tag(result["run_id"], "optuna.state", "COMPLETE")
        return float(result["best_val_f1"])

    return objective


def _tag_active_run(trial, study_name: str, state: str | None = None) -> None:
    """Name the trial on the nested MLflow run run_training has open (if it logs to MLflow)."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        return
    if "mlflow_run_id" not in trial.user_attrs:
        trial.set_user_attr("mlflow_run_id", run.info.run_id)
        mlflow.set_tags({"optuna.study_name": study_name, "optuna.trial_number": str(trial.number),
                         **{f"hpo.{k}": str(v) for k, v in trial.params.items()}})
    if state:
        mlflow.set_tag("optuna.state", state)


def keep_best_only(params: dict, study_name: str):
    """Study callback: delete finished trials' directories except the best trial's (and all checkpoints).

    Trials still running (other workers) are left alone.
    """
    import optuna

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        try:
            best = study.best_trial.number
        except ValueError:  # no completed trial yet
            best = None
        finished = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
        for number in finished:
            path = _trial_dir(params, study_name, number)
            shutil.rmtree(path.with_name(path.name + "_checkpoints"), ignore_errors=True)
            if number != best and path.exists():
                shutil.rmtree(path, ignore_errors=True)

    return callback


# -----------------------------------------------------------------------------
# results


def counts(study) -> dict[str, int]:
    from optuna.trial import TrialState

    states = [t.state for t in study.get_trials(deepcopy=False)]
    return {
        "complete": states.count(TrialState.COMPLETE),
        "pruned": states.count(TrialState.PRUNED),
        "failed": states.count(TrialState.FAIL),
        "running": states.count(TrialState.RUNNING),
    }


def write_best_params(params: dict, study, url: str, path: Path | None = None) -> Path:
    """The best trial as a file `--use-best-params` reads: values, params.yaml overrides, figures."""
    best = study.best_trial
    path = path or resolve_path(params["hpo"]["best_params_file"])
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "study_name": study.study_name,
        "storage": masked(url),
        "best_trial": best.number,
        "best_val_weighted_f1": best.value,
        "test_weighted_f1": best.user_attrs.get("test_weighted_f1"),
        "realistic_test_accuracy": best.user_attrs.get("realistic_test_accuracy"),
        "model_dir": best.user_attrs.get("model_dir"),
        "mlflow_run_id": best.user_attrs.get("mlflow_run_id"),
        "trial_budget": {"epochs": params["hpo"]["epochs"], "max_train_samples": params["hpo"].get("max_train_samples")},
        "params": dict(best.params),
        "overrides": overrides_for(best.params, params),
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def load_best_overrides(params: dict, path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Section overrides from the best-params file (what `make train BEST=1` applies)."""
    path = Path(path) if path else resolve_path(params["hpo"]["best_params_file"])
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make hpo` first (it writes the best trial's params there)")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    overrides = doc.get("overrides") if isinstance(doc, dict) else None
    if not isinstance(overrides, dict) or not overrides:
        raise ValueError(f"{path}: no 'overrides' mapping (not written by pipeline.modeling.hpo?)")
    for section, values in overrides.items():
        if section not in TUNABLE_SECTIONS or not isinstance(values, dict):
            raise ValueError(f"{path}: overrides.{section} is not one of {TUNABLE_SECTIONS} with a mapping")
        unknown = [k for k in values if k not in params[section]]
        if unknown:
            raise ValueError(f"{path}: overrides.{section} has keys {unknown} unknown to params.yaml")
    return overrides


def save_plots(study, out_dir: Path, seed: int) -> list[Path]:
    """Optimisation history (pruned trials too) and parameter importances as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as ovm

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [history_plot(study, out_dir / "optimization_history.png")]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) >= 2 and len({tuple(sorted(t.params.items())) for t in complete}) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            ax = ovm.plot_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed),
                target_name="validation weighted F1",
            )
        ax.set_title(f"Hyper-parameter importance (fANOVA, {len(complete)} complete trials)", loc="left")
        ax.get_legend().remove()
        fig = ax.figure
        fig.set_size_inches(8, 4.5)
        fig.tight_layout()
        fig.savefig(out_dir / "param_importances.png", dpi=110)
        paths.append(out_dir / "param_importances.png")
    else:
        log.warning("parameter importance needs at least 2 completed trials with different params: not plotted")
    plt.close("all")
    return paths


def history_plot(study, path: Path) -> Path:
    """Value per trial: complete trials, pruned trials at their last reported epoch, best so far."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    from optuna.trial import TrialState

    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED and t.intermediate_values]
    ax.scatter([t.number for t in done], [t.value for t in done], color="tab:blue", label="complete", zorder=3)
    ax.scatter([t.number for t in pruned], [t.intermediate_values[max(t.intermediate_values)] for t in pruned],
               color="tab:orange", marker="x", label="pruned (value at its last epoch)", zorder=3)
    best, xs, ys = float("-inf"), [], []
    for t in sorted(done, key=lambda t: t.number):
        best = max(best, t.value)
        xs.append(t.number)
        ys.append(best)
    ax.step(xs, ys, where="post", color="tab:red", alpha=0.6, label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel("validation weighted F1")
    ax.set_title(f"Optimisation history: {study.study_name} ({len(done)} complete, {len(pruned)} pruned)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def set_shared_tag(client, run_id: str, key: str, value: str, attempts: int = 5) -> None:
    """set_tag on a run other workers write too: MLflow's SQL store inserts a new tag key, so two
    workers setting it at once make one fail with a UNIQUE constraint error; the retry updates it."""
    from mlflow.exceptions import MlflowException

    for attempt in range(attempts):
        try:
            client.set_tag(run_id, key, value)
            return
        except MlflowException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def log_study_to_parent(study, params: dict, parent_id: str, files: list[Path], summary: dict) -> None:
    """Best params, counts, the trial table and the plots on the study's parent run."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    logged = client.get_run(parent_id).data.params
    for name, value in study.best_trial.params.items():
        # params are immutable in MLflow: the first best is a param, the current best always a tag
        if f"best.{name}" not in logged:
            try:
                client.log_param(parent_id, f"best.{name}", value)
            except MlflowException:  # another worker logged its first best between the read and here
                pass
        set_shared_tag(client, parent_id, f"best.{name}", str(value))
    set_shared_tag(client, parent_id, "best_trial", str(study.best_trial.number))
    metrics = {"best_val_weighted_f1": study.best_value, **{f"trials_{k}": v for k, v in counts(study).items()}}
    test_f1 = study.best_trial.user_attrs.get("test_weighted_f1")
    if test_f1 is not None:
        metrics["best_trial_test_weighted_f1"] = test_f1
    for key, value in metrics.items():
        client.log_metric(parent_id, key, float(value))
    for f in files:
        client.log_artifact(parent_id, str(f), "hpo")
    client.log_dict(parent_id, summary, "hpo/summary.json")


def trials_table(study, path: Path) -> Path:
    df = study.trials_dataframe(attrs=("number", "value", "state", "params", "duration", "user_attrs"))
    df.to_csv(path, index=False)
    return path


# -----------------------------------------------------------------------------
# entry point


def run_study(
    params: dict,
    *,
    n_trials: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    worker_id: int = 0,
    train_fn: TrainFn | None = None,
    log_to_mlflow: bool = True,
    threads: int | None = None,
) -> dict:
    """Run (or continue) the study until it has `n_trials` finished trials; returns a summary.

    Finished = complete + pruned. Several workers may call this at once on a shared storage
    (PostgreSQL; SQLite for a few workers on one machine, whose writes are minutes apart):
    together they stop at the target (each may finish the trial it is running). `threads`
    overrides train.num_threads per trial (1 per worker when workers share the cores).
    """
    import optuna

    check_search_space(params)
    hpo = params["hpo"]
    target = int(n_trials if n_trials is not None else hpo["n_trials"])
    if target < 1:
        raise ValueError(f"n_trials must be >= 1, got {target}")
    if train_fn is None:
        from pipeline.modeling.train import run_training as train_fn
    url = storage_url(params, storage)
    study = create_study(params, url, study_name, worker_id)
    name = study.study_name
    parent_id = parent_run_id(study, params, url) if log_to_mlflow else None
    done = counts(study)
    remaining = target - done["complete"] - done["pruned"]
    log.info("study %s on %s: %d complete, %d pruned; running up to %d more trial(s)",
             name, masked(url), done["complete"], done["pruned"], max(remaining, 0))
    t0 = time.time()
    if remaining > 0:
        with progress_bar(total=remaining, desc="HPO trials", unit="trial") as bar:
            study.optimize(
                make_objective(params, train_fn, parent_id, name, threads),
                n_trials=remaining,
                callbacks=[
                    optuna.study.MaxTrialsCallback(target, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)),
                    keep_best_only(params, name),
                    lambda _study, _trial: bar.update(1),
                ],
                catch=(RuntimeError, MemoryError),
            )
    seconds = round(time.time() - t0, 1)
    c = counts(study)
    summary = {"study_name": name, "storage": masked(url), "n_trials_target": target, **c, "worker_seconds": seconds}
    if c["complete"] == 0:
        summary["error"] = "no trial completed"
        return summary
    best = study.best_trial
    out_dir = resolve_path(hpo["output_dir"]) / name
    best_file = write_best_params(params, study, url)
    files = [best_file, trials_table(study, out_dir / "trials.csv"), *save_plots(study, out_dir, int(params["seed"]))]
    summary.update(
        best_trial=best.number,
        best_val_weighted_f1=best.value,
        best_params=dict(best.params),
        best_test_weighted_f1=best.user_attrs.get("test_weighted_f1"),
        best_model_dir=best.user_attrs.get("model_dir"),
        best_params_file=str(best_file),
        files=[str(f) for f in files],
        mlflow_parent_run_id=parent_id,
    )
    if parent_id:
        log_study_to_parent(study, params, parent_id, files, summary)
        from mlflow import MlflowClient

        if c["running"] == 0:
            MlflowClient().set_terminated(parent_id)
    return summary
