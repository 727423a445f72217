"""Checks on a distributed task queue: Dramatiq over Redis, the workers that take its jobs."""
