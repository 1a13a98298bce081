"""After deployment: drift, live feedback, active learning, retraining and adding intents."""
