"""How long rebuilding an adaptive procedure from its stored trials takes (acuity.procedure.replay):
what a live event costs when the procedure cache misses (a restart, another process's answer).

    python bench/replay.py [--trials 30] [--repeats 20]

Prints the milliseconds per replay (with the next presentation and the estimate), best and median
of the repeats. About 4 ms for 30 trials on the 2-core development machine; a regression to
recomputing every likelihood per trial costs well over 50 ms. (A timing, so a benchmark, not a test:
tests check behaviour.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acuity.optotypes import optotype_set  # noqa: E402
from acuity.procedure import ProcedureConfig, build_procedure, replay  # noqa: E402


def history_of(config: ProcedureConfig, seed: int, trials: int) -> list:
    """A live test's history: the first symbol shown answered right three times in four."""
    procedure = build_procedure(config, seed)
    symbols = optotype_set(config.optotype_set).symbols
    history = []
    for i in range(trials):
        presentation = procedure.next_presentation()
        if presentation is None:
            break
        responses = [
            shown if i % 4 != 1 else next(s for s in symbols if s != shown) for shown in presentation.optotypes
        ]
        procedure.record(presentation, responses)
        history.append((presentation, responses))
    return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    config = ProcedureConfig(max_trials=max(args.trials, ProcedureConfig().max_trials))
    history = history_of(config, 11, args.trials)
    replay(config, 11, history)  # the likelihood tables, once per process
    timings_ms = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        rebuilt = replay(config, 11, history)
        rebuilt.next_presentation()
        rebuilt.estimate()
        timings_ms.append((time.perf_counter() - started) * 1000)
    print(
        f"replay of {len(history)} trials: best {min(timings_ms):.1f} ms, median {statistics.median(timings_ms):.1f} ms "
        f"({args.repeats} repeats)"
    )


if __name__ == "__main__":
    main()
