# The serving image: TorchServe 0.12 + the intent handler, run as the unprivileged user `intent`.
# Its install steps are a fresh machine's: scripts/install_system.sh (the Debian packages; .ci/run
# runs the same script through `make system-deps` on every CI machine) and the Makefile's venv target.
# Not built here: no Docker daemon or base image is reachable on this machine.
# tests/unit/test_container_files.py checks that every file, port and variable it names exists.
#
#   make archive && docker compose up -d        (compose.yaml mounts model_store/ read-only)
FROM debian:12-slim

# torch from the CPU wheel index: `torch==2.13.0+cpu` outranks PyPI's CUDA build for the same pin
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    OMP_NUM_THREADS=1

WORKDIR /app
COPY scripts/install_system.sh scripts/install_system.sh
RUN scripts/install_system.sh --serving && rm -rf /var/lib/apt/lists/*

# dependencies before the code, so a code change reuses the venv layer
COPY requirements.txt pyproject.toml README.md Makefile ./
COPY pipeline/ pipeline/
COPY model_src/ model_src/
COPY handlers/ handlers/
RUN make .venv/.installed

COPY config.properties params.yaml ./
COPY serve_config/log4j2.xml serve_config/log4j2.xml

# The container's TorchServe config is config.properties with four values changed: inference and
# metrics listen on the container's interfaces (compose publishes them on the host's 127.0.0.1 only),
# management stays on the container's loopback, the model store is /app/model_store and only its
# .mar files may be registered. Token auth stays on (key_file.json in /app/run).
RUN useradd --create-home --uid 10001 intent \
    && mkdir -p run/tmp run/logs model_store /data \
    && sed -e 's#^inference_address=.*#inference_address=http://0.0.0.0:8080#' \
           -e 's#^metrics_address=.*#metrics_address=http://0.0.0.0:8082#' \
           -e 's#^model_store=.*#model_store=/app/model_store#' \
           -e 's#^allowed_urls=.*#allowed_urls=file:///app/model_store/[^/]+\\\\.mar#' \
           config.properties > run/config.properties \
    && chown -R intent:intent run /data

USER intent
WORKDIR /app/run
ENV PATH=/app/.venv/bin:$PATH \
    TMPDIR=/app/run/tmp \
    TEMP=/app/run/tmp \
    LOG_LOCATION=/app/run/logs \
    METRICS_LOCATION=/app/run/logs
EXPOSE 8080 8082
# /ping is liveness (the JVM answers; `make serve` also waits for a READY worker). With token auth
# on, /ping needs the inference token too (400 without): read from key_file.json in the work dir.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD python -c "import urllib.request as r; from pathlib import Path; from pipeline.services.torchserve import read_keys; \
r.urlopen(r.Request('http://127.0.0.1:8080/ping', headers={'Authorization': 'Bearer ' + read_keys(Path('.'))['inference']}), timeout=4)"
CMD ["torchserve", "--start", "--foreground", "--ts-config", "/app/run/config.properties", \
     "--model-store", "/app/model_store", "--log-config", "/app/serve_config/log4j2.xml", \
     "--models", "intent_classifier=intent_classifier.mar"]
