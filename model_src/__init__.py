"""Everything the served model needs, packed whole into the .mar: the model, tokenizer loading,
features, calibration and the prediction log. Imports only the standard library, numpy, torch,
safetensors and transformers, never `pipeline`."""
