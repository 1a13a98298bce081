#!/usr/bin/env python
"""`make mlflow-server`: MLflow tracking + registry server on 127.0.0.1, one worker, Host-header checks.

    python scripts/mlflow_server.py                # port params registry.server.port (5000), Ctrl-C stops
    python scripts/mlflow_server.py --port 5055

Exit codes: 0 stopped by Ctrl-C, 1 failed to start (port in use, server error), 2 bad arguments.
"""

import sys

from pipeline.services.mlflow_server import main

if __name__ == "__main__":
    sys.exit(main())
