"""Competition-style problem families with computed answers, weighted to OpenR1's topic mix (mostly
algebra, then number theory, geometry and combinatorics), plus the proof families."""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from curate.synthetic.families import algebra, analysis, counting, geometry, numbers, puzzles
from curate.synthetic.families.base import Problem, wrongs

Family = Callable[[Random], Problem]


# (family, weight): weights give OpenR1's mix, mostly algebra, then geometry, number theory, combinatorics.
FAMILIES: tuple[tuple[Family, float], ...] = (
    (algebra.round_trip, 5),
    (algebra.pipes, 3),
    (algebra.purchase_system, 5),
    (algebra.vieta, 5),
    (algebra.composition, 4),
    (algebra.arithmetic_sum, 4),
    (algebra.geometric_term, 3),
    (algebra.calculation, 5),
    (algebra.logarithms, 3),
    (algebra.percent, 3),
    (numbers.power_remainder, 3),
    (numbers.divisors, 2),
    (numbers.inclusion_exclusion, 2),
    (numbers.gcd_lcm, 2),
    (numbers.last_digits, 2),
    (numbers.base_number, 1),
    (counting.committee, 2),
    (counting.grid_paths, 2),
    (counting.arrangements, 2),
    (counting.draw_probability, 2),
    (counting.tournament, 2),
    (geometry.right_triangle, 3),
    (geometry.heron, 3),
    (geometry.chord, 2),
    (geometry.rectangle, 3),
    (analysis.derivative, 2),
    (analysis.integral, 2),
    (analysis.sequence_limit, 1),
    (analysis.am_gm_min, 2),
    (analysis.max_product, 2),
    (puzzles.ages, 2),
    (puzzles.heads_legs, 2),
    (puzzles.digit_sum, 1),
)
PROOF_FAMILIES: tuple[Family, ...] = (analysis.proof_divisibility, analysis.proof_inequality)

__all__ = ["FAMILIES", "PROOF_FAMILIES", "Family", "Problem", "wrongs"]
