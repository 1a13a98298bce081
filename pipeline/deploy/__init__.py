"""Getting a model to users: registry, archive (.mar), canary rollout, KServe package, serving benchmark."""
