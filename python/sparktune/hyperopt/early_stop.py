"""Early stopping for ``fmin(..., early_stop_fn=...)``.

An early-stop function is called after each evaluation as ``stop_fn(trials, *state)`` and returns
``(stop, state)``: `state` is what it wants back at the next call (the first call gets none).
"""

from __future__ import annotations

import logging
import math
from typing import Any, Callable, List, Optional, Tuple

logger = logging.getLogger(__name__)


def no_progress_loss(iteration_stop_count: int = 20, percent_increase: float = 0.0) -> Callable:
    """Stops the search when the best loss has not improved for `iteration_stop_count`
    consecutive trials. An improvement must beat the best loss so far by more than
    `percent_increase` percent of its magnitude. A trial without a loss (failed) or with a NaN
    loss is not an improvement."""

    def stop_fn(trials: Any, best_loss: Optional[float] = None, iterations_without_progress: int = 0
                ) -> Tuple[bool, List[Any]]:
        if not trials.trials:
            return False, [best_loss, iterations_without_progress]
        loss = trials.trials[-1]["result"].get("loss")
        usable = loss is not None and not math.isnan(loss)
        if best_loss is None:
            # The first loss seen is the baseline; nothing to compare it with yet.
            return False, [loss if usable else None, iterations_without_progress + 1]
        threshold = best_loss - abs(best_loss * percent_increase / 100.0)
        if usable and loss < threshold:
            best_loss, iterations_without_progress = loss, 0
        else:
            iterations_without_progress += 1
            logger.debug("no progress for %d of %d trials (best loss %s, to beat %s, last %s)",
                         iterations_without_progress, iteration_stop_count, best_loss, threshold, loss)
        return iterations_without_progress >= iteration_stop_count, [best_loss, iterations_without_progress]

    return stop_fn
