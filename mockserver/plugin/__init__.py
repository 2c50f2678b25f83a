"""The pytest plugin and what it drives: in-process interception, live servers, factories."""
