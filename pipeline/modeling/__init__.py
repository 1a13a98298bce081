"""Training and everything around it: datasets, checkpoints, warm start, encoders, HPO, tracking, prediction, ONNX export."""
