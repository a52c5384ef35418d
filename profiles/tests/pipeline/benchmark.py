"""Time run_pipeline on synthetic customers (not a test: timings depend on the machine).

.venv/bin/python -m profiles.tests.pipeline.benchmark 100000
"""

from __future__ import annotations

import sys
import time

from profiles.pipeline import PipelineInputs, run_pipeline

from .synthetic import AS_OF, generate


def main(n_customers: int) -> None:
    started = time.perf_counter()
    data = generate(n_customers, events_per_customer=10.0)
    sizes = {name: len(frame) for name, frame in data.items()}
    print(f"generated {sizes} in {time.perf_counter() - started:.1f}s")
    started, cpu_started = time.perf_counter(), time.process_time()
    outputs = run_pipeline(PipelineInputs(**data), as_of=AS_OF)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    # CPU time alongside wall time: on a shared machine the wall clock mostly measures the neighbours.
    print(f"run_pipeline: {total:.1f}s wall, {cpu:.1f}s CPU for {n_customers} customers")
    print("steps:", {step: round(seconds, 1) for step, seconds in outputs.timings.items()})
    print("metrics:", outputs.metrics)
    print("warnings:", outputs.warnings)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
