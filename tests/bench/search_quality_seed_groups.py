"""The shared search-quality bench, over many groups of 10 seeds: how much its 10-seed median moves.

Usage: python tests/bench/search_quality_seed_groups.py BUDGET GROUPS
Runs ../shared/bench/search_quality.py's own code (its functions, spaces and optuna objective) for
sparktune-tpe and optuna-tpe on seeds 0 .. 10*GROUPS-1, keeping every seed's best loss. Prints, per
function, each group's median (seeds 10g .. 10g+9, the shared bench's `BUDGET 10` run being group 0)
side by side, the groups where sparktune's median is at most optuna's, and the medians over all seeds.
"""
import os
import statistics
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
import search_quality  # noqa: E402

GROUP = 10  # seeds per group: the shared bench's run that the target quotes


def per_seed_bests(run):
    """Calls one of the shared bench's runners, keeping the per-seed lists it takes the median of."""
    kept = []

    def median(values):
        kept.append(list(values))
        return statistics.median(values)

    search_quality.statistics = types.SimpleNamespace(median=median)
    try:
        run()
    finally:
        search_quality.statistics = statistics
    if len(kept) != len(search_quality.FUNCTIONS):  # the shared bench no longer takes one median per function
        raise RuntimeError(f"expected {len(search_quality.FUNCTIONS)} medians from the shared bench, got {len(kept)}")
    return dict(zip(search_quality.FUNCTIONS, kept))


def main():
    budget, groups = int(sys.argv[1]), int(sys.argv[2])
    seeds = GROUP * groups
    import sparktune.hyperopt

    bests = {
        "sparktune-tpe": per_seed_bests(lambda: search_quality.run_hyperopt_like(sparktune.hyperopt, "tpe", budget, seeds)),
        "optuna-tpe": per_seed_bests(lambda: search_quality.run_optuna(budget, seeds)),
    }
    for name in search_quality.FUNCTIONS:
        print(f"{name} budget={budget}: median of each group of {GROUP} seeds", flush=True)
        medians = {}
        for opt, by_function in bests.items():
            values = by_function[name]
            medians[opt] = [statistics.median(values[g * GROUP:(g + 1) * GROUP]) for g in range(groups)]
            print(f"  {opt:14s} " + " ".join(f"{m:.4f}" for m in medians[opt])
                  + f"   all {seeds} seeds: {statistics.median(values):.5f}", flush=True)
        wins = sum(s <= o for s, o in zip(medians["sparktune-tpe"], medians["optuna-tpe"]))
        print(f"  sparktune-tpe at most optuna-tpe in {wins} of {groups} groups", flush=True)


if __name__ == "__main__":
    main()
