# BetterPrompts intent service. `make` alone lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
# exported: pipeline code (the retrain loop's `dvc add`) runs this one too
export DVC ?= $(abspath $(VENV))/bin/dvc
PARAMS ?= params.yaml
# DVC stages run `python`: the venv's, first on PATH
DVC_RUN = PATH="$(abspath $(VENV))/bin:$$PATH" $(DVC)
# pip on this kind of machine prints a line per missing local index: keep the log readable
# (pipefail keeps pip's exit status; the braces only stop grep's "nothing left" status from failing)
PIP_QUIET = 2>&1 | { grep -vE "is ignored: it is neither a file nor a directory" || true; }

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export AWS_REQUEST_CHECKSUM_CALCULATION := when_required
export AWS_RESPONSE_CHECKSUM_VALIDATION := when_required

# Operator text (a labelling rule, names, versions) reaches the scripts through the environment,
# as ARG_<name>, read by the recipe as "$$ARG_<name>": neither make nor the shell parses it, so
# `$(...)`, backquotes and quotes in it stay text. ($(value X) is X as typed; make would otherwise
# expand X, and export it expanded, running a $(shell ...) inside.)
OPERATOR_ARGS := NAME DATA DEFINITION CHAMPION VERSION MAR_NAME INPUT OUTPUT
unexport $(OPERATOR_ARGS)
$(foreach arg,$(OPERATOR_ARGS),$(eval export ARG_$(arg) = $$(value $(arg))))

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

##@ Setup
.PHONY: install system-deps check-system
install: $(VENV)/.installed check-system ## Create .venv and install pinned requirements (idempotent, fast no-op when done)

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip $(PIP_QUIET)
	$(VENV)/bin/pip install -q -r requirements.txt $(PIP_QUIET)
	$(VENV)/bin/pip install -q --no-deps -e . $(PIP_QUIET)
	$(VENV)/bin/python -c "import torch, transformers, ts" # fail here if the install did not take
	touch $@

check-system: ## Check the Debian packages of scripts/install_system.sh (Java 17, redis-server, nginx, WordNet, PostgreSQL 15, wrk, prometheus); installs missing ones as root or with passwordless sudo (else: make system-deps)
	@scripts/check_system.sh

system-deps: ## Install the Debian packages the project uses (apt-get; needs root)
	@scripts/install_system.sh

##@ Tests
.PHONY: test test-unit lint format
test: install ## Run the whole test suite: unit + integration (real servers on 127.0.0.1)
	$(PYTHON) -m pytest tests

test-unit: install ## Fast unit tests only (no servers)
	$(PYTHON) -m pytest tests -m "not integration and not slow"

lint: install ## ruff check
	$(VENV)/bin/ruff check .

format: install ## ruff format + import sort
	$(VENV)/bin/ruff check --fix --select I .
	$(VENV)/bin/ruff format .

##@ Data
S3_PORT ?= 8333
# local-dev defaults for the SeaweedFS S3 server and DVC; export your own to override
export AWS_ACCESS_KEY_ID ?= betterprompts-dev
export AWS_SECRET_ACCESS_KEY ?= betterprompts-dev-secret
.PHONY: data data-push data-pull s3-start s3-stop
data: install ## Generate + prepare data/processed/{train,val,test}.jsonl (dvc repro prepare; no-op when up to date)
	$(DVC_RUN) repro prepare

s3-start: install ## Start the local S3 server (SeaweedFS) on 127.0.0.1:S3_PORT (8333), data in .s3data/
	$(PYTHON) scripts/s3_server.py start --port $(S3_PORT)

s3-stop: ## Stop the local S3 server
	$(PYTHON) scripts/s3_server.py stop --port $(S3_PORT)

data-push: s3-start ## Push the DVC-tracked data to the S3 remote
	$(DVC) push generate prepare

data-pull: s3-start ## Pull the DVC-tracked data from the S3 remote
	$(DVC) pull generate prepare

##@ Model
NPROC ?= 2
MLFLOW_UI_PORT ?= 5001
TRAIN_ARGS ?=
.PHONY: train train-ddp mlflow-ui
# `dvc repro train` (recorded in dvc.lock; a no-op when nothing changed). Overrides (TRAIN_ARGS, BEST=1,
# another PARAMS file) run the script outside DVC, which says so: dvc.lock then does not describe the model.
train: data ## Train the intent classifier (dvc repro train; TRAIN_ARGS="--epochs 1" or BEST=1 (HPO's best params) run it outside DVC)
ifeq ($(strip $(TRAIN_ARGS)$(BEST))$(PARAMS),params.yaml)
	$(DVC_RUN) repro train
else
	@echo "note: TRAIN_ARGS/BEST/PARAMS given: training outside DVC (dvc.lock does not record this model; dvc exp run -S section.key=value does)"
	$(PYTHON) scripts/train_intent_classifier.py --params $(PARAMS) $(if $(BEST),--use-best-params) $(TRAIN_ARGS)
endif

train-ddp: install ## Train with DDP on NPROC CPU processes (torchrun, gloo); run `make data` first
	$(VENV)/bin/torchrun --standalone --nproc_per_node $(NPROC) scripts/train_intent_classifier.py --params $(PARAMS) $(TRAIN_ARGS)

mlflow-ui: install ## MLflow UI for the local tracking store on 127.0.0.1:MLFLOW_UI_PORT
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port $(MLFLOW_UI_PORT)

# MODEL: a model directory or models:/intent_classifier@champion (default: params paths.model_dir)
MODEL ?=
EVAL_ARGS ?= --realistic --live-examples
.PHONY: evaluate
evaluate: install ## Evaluate a model: metrics, calibration, plots, report in params paths.eval_dir (MODEL=..., EVAL_ARGS=...)
	$(PYTHON) scripts/evaluate_model.py --params $(PARAMS) $(if $(MODEL),--model-path $(MODEL)) $(EVAL_ARGS)

# DVC views of the evaluate stage (dvc.yaml): figures of the workspace vs HEAD, plots as HTML
EXP_SET ?=
.PHONY: metrics metrics-diff plots exp
EVAL_METRICS ?= evaluation_results/dvc/metrics.json
metrics: install ## dvc metrics show of the evaluate stage: accuracy, weighted F1, ECE per set (template test and the realistic sets)
	$(DVC) metrics show $(EVAL_METRICS)

metrics-diff: install ## dvc metrics diff of the evaluate stage: the workspace's figures against HEAD's dvc.lock
	$(DVC) metrics diff --targets $(EVAL_METRICS)

plots: install ## dvc plots show: confusion matrices, reliability diagrams, per-intent F1 -> dvc_plots/index.html
	$(DVC) plots show

exp: install ## dvc exp run -S EXP_SET="train.learning_rate=5e-5": train + evaluate with one param changed, then dvc exp show
	@test -n "$(EXP_SET)" || { echo 'usage: make exp EXP_SET="train.learning_rate=5e-5"' >&2; exit 2; }
	$(DVC_RUN) exp run $(foreach kv,$(EXP_SET),-S $(kv))
	$(DVC) exp show --only-changed

# Batch prediction: INPUT=prompts.{jsonl,csv,txt} OUTPUT=predictions.jsonl [MODEL=dir|models:/...] [BATCH_SIZE=n]
INPUT ?=
OUTPUT ?=
BATCH_SIZE ?=
.PHONY: predict
predict: install ## Batch prediction of INPUT=prompts file into OUTPUT=predictions.jsonl (MODEL=..., BATCH_SIZE=n); bad rows -> OUTPUT.errors.jsonl
	@test -n "$$ARG_INPUT" -a -n "$$ARG_OUTPUT" || { echo "usage: make predict INPUT=prompts.jsonl OUTPUT=predictions.jsonl [MODEL=dir|models:/intent_classifier@champion] [BATCH_SIZE=32]" >&2; exit 2; }
	$(PYTHON) scripts/predict.py --params $(PARAMS) --input "$$ARG_INPUT" --output "$$ARG_OUTPUT" \
		$(if $(MODEL),--model $(MODEL)) $(if $(BATCH_SIZE),--batch-size $(BATCH_SIZE))

# HPO + registry: N_TRIALS = the study's target of finished trials (a rerun continues the study);
# STORAGE=postgresql+psycopg2://... lets several `make hpo` workers share one study.
N_TRIALS ?=
STORAGE ?=
HPO_WORKERS ?= 2
RUN_ID ?=
DRY_RUN ?=
.PHONY: hpo register promote
hpo: data ## Optuna search, HPO_WORKERS=2 processes x 1 thread -> hpo_results/best_params.yaml; then `make train BEST=1` (N_TRIALS=n, STORAGE=url)
	$(PYTHON) scripts/train_intent_classifier.py --hyperparameter-search --params $(PARAMS) --workers $(HPO_WORKERS) \
		$(if $(N_TRIALS),--n-trials $(N_TRIALS)) $(if $(STORAGE),--storage $(STORAGE))

register: install ## Register MODEL=dir (default paths.model_dir) or RUN_ID=id as a new registry version, then run the promotion gate
	$(PYTHON) scripts/register_model.py --params $(PARAMS) register $(if $(RUN_ID),--run-id $(RUN_ID),$(if $(MODEL),--model-dir $(MODEL)))

promote: install ## Promotion gate: VERSION (default @challenger) vs @champion on the frozen test split; champion moves if it wins (DRY_RUN=1)
	$(PYTHON) scripts/register_model.py --params $(PARAMS) promote $(if $(value VERSION),--version "$$ARG_VERSION") $(if $(DRY_RUN),--dry-run)

##@ Serving
# `make serve` chains what it needs through file targets, so a rerun only starts the server:
# fresh machine: data -> train -> evaluate (fits calibration.json) -> register (first model becomes
# champion) -> archive -> TorchServe. SERVE_MODEL_DIR is params paths.model_dir.
SERVE_MODEL_DIR ?= models/intent_classifier
MAR_NAME ?= intent_classifier
MAR = model_store/$(MAR_NAME).mar
VERSION ?=
ONNX ?=
BENCH_ARGS ?=
.PHONY: archive serve stop token redis bench
archive: install ## Build model_store/intent_classifier.mar from the MLflow champion (or MODEL=dir VERSION=x [MAR_NAME=..] [ONNX=1])
	$(PYTHON) scripts/archive_model.py --params $(PARAMS) $(if $(MODEL),--model $(MODEL) --version "$$ARG_VERSION") \
		$(if $(filter-out intent_classifier,$(value MAR_NAME)),--mar-name "$$ARG_MAR_NAME") $(if $(ONNX),--onnx)

$(SERVE_MODEL_DIR)/model.safetensors: | $(VENV)/.installed
	$(MAKE) data
	$(MAKE) train

# the evaluate stage alone (--single-item): a model trained outside DVC is evaluated, never retrained
$(SERVE_MODEL_DIR)/calibration.json: $(SERVE_MODEL_DIR)/model.safetensors
	$(DVC_RUN) repro --single-item evaluate
	$(MAKE) register || echo "note: registration refused or failed (see above): archiving the current champion or $(SERVE_MODEL_DIR)"

# the archive packs model_src/ whole: any change in it (or the handler, config, params) rebuilds it
model_store/intent_classifier.mar: $(SERVE_MODEL_DIR)/calibration.json handlers/intent_handler.py \
		$(wildcard model_src/*.py) serve_config/model-config.yaml $(PARAMS) | $(VENV)/.installed
	$(PYTHON) scripts/archive_model.py --params $(PARAMS)

serve: install model_store/intent_classifier.mar ## Start TorchServe + Redis on 127.0.0.1 (fresh machine: data, train, evaluate, register, archive first), wait until the model answers
	$(PYTHON) scripts/serve.py --params $(PARAMS) redis --optional
	$(PYTHON) scripts/serve.py --params $(PARAMS) start

stop: ## Stop TorchServe, its token renewer and the Redis cache started by make serve/redis
	$(PYTHON) scripts/serve.py --params $(PARAMS) stop

token: ## Print the TorchServe tokens and ready curl lines (eval "$(make -s token)" exports them)
	@$(PYTHON) scripts/serve.py --params $(PARAMS) token

redis: install ## Start redis-server on 127.0.0.1 (port of serve.redis_url) for the result cache
	$(PYTHON) scripts/serve.py --params $(PARAMS) redis

.PHONY: supervise supervise-stop supervise-status
supervise: install model_store/intent_classifier.mar ## TorchServe + token renewer + Redis + canary nginx under supervisord (restart on any exit), config from params in run/supervise
	$(PYTHON) scripts/supervise.py --params $(PARAMS) start

supervise-stop: ## Stop the supervised TorchServe, token renewer, Redis, nginx and supervisord
	$(PYTHON) scripts/supervise.py --params $(PARAMS) stop

supervise-status: ## supervisorctl status of the supervised programs
	$(PYTHON) scripts/supervise.py --params $(PARAMS) status

# MLflow's own scoring server on the registered pyfunc (POST /invocations {"dataframe_records": [{"text": ...}]})
PYFUNC_PORT ?= 5002
.PHONY: serve-pyfunc
serve-pyfunc: install ## mlflow models serve of the champion pyfunc (or MODEL=models:/intent_classifier/N) on 127.0.0.1:PYFUNC_PORT (5002); Ctrl-C stops
	$(PYTHON) scripts/serve_pyfunc.py --params $(PARAMS) --port $(PYFUNC_PORT) $(if $(MODEL),--model $(MODEL))

bench: install model_store/intent_classifier.mar ## Benchmark the served model (latency, throughput vs raw forward and a naive handler) -> bench/results.json
	$(PYTHON) scripts/benchmark.py --params $(PARAMS) $(BENCH_ARGS)


##@ Operations
MLFLOW_PORT ?=
.PHONY: mlflow-server
mlflow-server: install ## MLflow tracking + registry server on 127.0.0.1 (params registry.server; one worker, Host checks; Ctrl-C stops)
	$(PYTHON) scripts/mlflow_server.py --params $(PARAMS) $(if $(MLFLOW_PORT),--port $(MLFLOW_PORT))

# Reliability: faults, fuzzing and security probes against servers it starts on free 127.0.0.1 ports
RELIABILITY_ARGS ?=
.PHONY: reliability
reliability: install ## Fault/fuzz/security runs on loopback (tiny model; RELIABILITY_ARGS="--model-dir DIR") -> bench/reliability.json + table
	$(PYTHON) scripts/reliability.py --params $(PARAMS) $(RELIABILITY_ARGS)

# Soak: SOAK_MINUTES of mixed traffic with faults on a schedule, its own supervised stack on free ports (params soak)
SOAK_MINUTES ?=
MODEL_DIR ?=
.PHONY: soak
soak: install ## Soak run: SOAK_MINUTES (30) of traffic at c=8 with faults on a schedule (MODEL_DIR=dir, else tiny model) -> bench/soak.json + .png
	$(PYTHON) scripts/soak.py --params $(PARAMS) $(if $(SOAK_MINUTES),--minutes $(SOAK_MINUTES)) $(if $(MODEL_DIR),--model-dir $(MODEL_DIR))

# Canary rollouts (params rollout): clients call the nginx proxy, 127.0.0.1:8090/predictions/intent_classifier
ROLLOUT_ARGS ?=
.PHONY: canary canary-promote canary-rollback rollout-status proxy-stop kserve-package kserve-venv kserve-validate
canary: install ## Canary rollout of MAR=model_store/<new>.mar next to the serving version: 5 -> 25 -> 50 -> 100 %, promote or roll back (rerun resumes)
	@test "$(origin MAR)" = "command line" || { echo "usage: make canary MAR=model_store/intent_classifier_v2.mar" >&2; exit 2; }
	$(PYTHON) scripts/rollout.py --params $(PARAMS) canary --mar $(MAR) $(ROLLOUT_ARGS)

canary-promote: install ## Promote the version in canary now: set-default, MLflow champion alias, retire the old version
	$(PYTHON) scripts/rollout.py --params $(PARAMS) promote

canary-rollback: install ## Roll the version in canary back now: weight 0, unregister it (aliases untouched)
	$(PYTHON) scripts/rollout.py --params $(PARAMS) rollback

rollout-status: install ## Rollout state, proxy routing, registered versions and the last decisions (JSON)
	@$(PYTHON) scripts/rollout.py --params $(PARAMS) status

proxy-stop: ## Stop the canary nginx proxy
	$(PYTHON) scripts/rollout.py --params $(PARAMS) proxy-stop

# The KServe model server runs in its own venv, as in the pod image (kserve pins clash with ours)
KSERVE_VENV ?= .venv-kserve
kserve-venv: $(KSERVE_VENV)/.installed ## The KServe model server's own virtualenv (.venv-kserve, pinned in serve_config/kserve/requirements.txt)

$(KSERVE_VENV)/.installed: serve_config/kserve/requirements.txt
	test -x $(KSERVE_VENV)/bin/python || python3 -m venv $(KSERVE_VENV)
	$(KSERVE_VENV)/bin/pip install -q -r serve_config/kserve/requirements.txt $(PIP_QUIET)
	$(KSERVE_VENV)/bin/python -c "import kserve"
	touch $@

kserve-validate: kserve-venv ## Check serve_config/kserve/*.yaml against kserve's own API models (V1beta1InferenceService, ...)
	$(KSERVE_VENV)/bin/python serve_config/kserve/validate_manifests.py serve_config/kserve/*.yaml

kserve-package: install ## KServe layout (config/config.properties + model-store/) of MAR (default the champion archive) for S3
	$(PYTHON) scripts/kserve_package.py --params $(PARAMS) --mar $(MAR)

.PHONY: clean
clean: ## Remove generated data, models, archives and evaluation output (keeps .venv and stores)
	rm -rf data/raw/*.jsonl data/interim/* data/processed/* models model_store/*.mar evaluation_results

##@ Monitoring and lifecycle
LOG ?=
N ?= 100
FEEDBACK ?=
NEW_DATA ?=
DEPLOY ?=
NAME ?=
DATA ?=
DEFINITION ?=
CHAMPION ?=
.PHONY: drift drift-eval prometheus token-metrics feedback uncertain retrain add-intent

drift: install ## Drift report of the prediction log vs the training reference (md + PNG + Prometheus gauges)
	$(PYTHON) scripts/drift_report.py --params $(PARAMS) $(if $(LOG),--log $(LOG))

prometheus: install ## Prometheus on 127.0.0.1:9090 with serve_config/prometheus/ (scrapes make serve's TorchServe; alerts at /alerts; Ctrl-C stops)
	$(PYTHON) scripts/prometheus_server.py

token-metrics: install ## TorchServe token expiry as a Prometheus gauge (monitor.output_dir/torchserve_tokens.prom; cron it next to make drift)
	$(PYTHON) scripts/token_metrics.py --params $(PARAMS)

drift-eval: install ## Measure the drift detector: false-positive rate over 200 same-distribution seeds, shift detection
	$(PYTHON) scripts/drift_simulation.py --params $(PARAMS)

feedback: install ## Live accuracy per model version + A/B significance test from FEEDBACK=file.jsonl
	@test -n "$(FEEDBACK)" || { echo "usage: make feedback FEEDBACK=feedback.jsonl" >&2; exit 2; }
	$(PYTHON) scripts/feedback_report.py --params $(PARAMS) --feedback $(FEEDBACK)

uncertain: install ## N most uncertain logged prompts (margin/entropy, near-duplicates removed) -> CSV to label
	$(PYTHON) scripts/select_uncertain.py --params $(PARAMS) --n $(N) $(if $(LOG),--log $(LOG))

retrain: install ## Retrain from NEW_DATA=labelled file: validate, merge (DVC), fine-tune from champion, gate, register (DEPLOY=1: archive + canary rollout)
	@test -n "$(NEW_DATA)" || { echo "usage: make retrain NEW_DATA=labelled.csv [DEPLOY=1]" >&2; exit 2; }
	$(PYTHON) scripts/retrain.py --params $(PARAMS) --new-data $(NEW_DATA) $(if $(DEPLOY),--deploy)

add-intent: install ## Add intent NAME=... from DATA=file [DEFINITION="rule"] [CHAMPION=dir]: grow labels + head, fine-tune, check old intents' F1 (WRITE_PARAMS=1 edits params.yaml)
	@test -n "$$ARG_NAME" -a -n "$$ARG_DATA" || { echo "usage: make add-intent NAME=email_writing DATA=rows.csv [DEFINITION=\"labelling rule\"] [CHAMPION=model_dir] [WRITE_PARAMS=1]" >&2; exit 2; }
	$(PYTHON) scripts/add_intent.py --params $(PARAMS) --name "$$ARG_NAME" --data "$$ARG_DATA" \
		$(if $(value DEFINITION),--definition "$$ARG_DEFINITION") $(if $(value CHAMPION),--champion "$$ARG_CHAMPION") $(if $(WRITE_PARAMS),--write-params)
