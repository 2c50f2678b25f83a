"""Fuzzing create call by call: boundary cases, hypothesis strategies, fresh UIDs."""
