"""BetterPrompts intent service: data, training, evaluation, registry and operations code."""
