"""Fault injection, fuzzed request bodies and security probes against real servers on loopback."""
