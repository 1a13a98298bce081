"""Synthetic labelled prompts: the generator, its template banks, pasted-context blocks and its own evaluation."""
