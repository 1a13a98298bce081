"""Two HPO worker processes share one Optuna study on a real PostgreSQL 15 (loopback, throwaway
cluster run as the `postgres` user), logging to one MLflow tracking server.

Each worker is the real CLI (`train_intent_classifier.py --hyperparameter-search`) training a tiny
encoder on tiny data, so the study, storage, pruner and MLflow nesting are the production ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import optuna
import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.modeling import hpo
from pipeline.services.mlflow_server import start_mlflow_server
from pipeline.services.postgres import find_bindir, start_postgres
from tests.train_helpers import tiny_params

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TARGET_TRIALS = 4


@pytest.fixture()
def postgres():
    try:
        find_bindir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.fixture()
def mlflow_server(tmp_path):
    server = start_mlflow_server(f"sqlite:///{tmp_path}/mlflow.db", str(tmp_path / "artifacts"), tmp_path / "mlflow.log")
    try:
        yield server
    finally:
        server.stop()


def test_two_workers_share_one_study(postgres, mlflow_server, tmp_path, params, tiny_encoder_dir, tiny_rows):
    from mlflow import MlflowClient

    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows * 4)
    p["mlflow"].update(tracking_uri=mlflow_server.url, artifact_location=None)
    p["hpo"].update(storage=postgres.url, study_name="shared", epochs=2, output_dir=str(tmp_path / "hpo"),
                    best_params_file=str(tmp_path / "hpo" / "best_params.yaml"))
    config = tmp_path / "params.yaml"
    config.write_text(yaml.safe_dump(p, sort_keys=False))
    # created once before the workers start, as `--workers` does: no race on tables, experiment or parent run
    hpo.parent_run_id(hpo.create_study(p), p, postgres.url)

    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"}
    workers = [
        subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "train_intent_classifier.py"), "--params", str(config),
             "--hyperparameter-search", "--n-trials", str(TARGET_TRIALS), "--worker-id", str(i)],
            stdout=(tmp_path / f"worker{i}.log").open("w"), stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )
        for i in range(2)
    ]
    try:
        codes = [w.wait(timeout=600) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    logs = "\n".join((tmp_path / f"worker{i}.log").read_text()[-3000:] for i in range(2))
    assert codes == [0, 0], logs

    study = optuna.load_study(study_name="shared", storage=postgres.url)
    finished = [t for t in study.trials if t.state.is_finished()]
    # together they reach the target; each may finish the trial it was running when it was reached
    assert TARGET_TRIALS <= len(finished) <= TARGET_TRIALS + 1, logs
    assert sorted(t.number for t in study.trials) == list(range(len(study.trials)))
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2, "both workers must have run trials"

    client = MlflowClient(mlflow_server.url)
    parent = study.user_attrs["mlflow_parent_run_id"]
    children = client.search_runs([client.get_run(parent).info.experiment_id],
                                  f"tags.`mlflow.parentRunId` = '{parent}'")
    assert sorted(int(r.data.tags["optuna.trial_number"]) for r in children) == sorted(t.number for t in finished)
    assert (tmp_path / "hpo" / "best_params.yaml").is_file()
