"""Data preparation: ingest and validate labelled files, clean, split, augment (the prepare stage)."""
