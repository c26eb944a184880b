"""`curate.terms`: which word swaps make another problem, read from real benchmark wordings."""

from __future__ import annotations

from curate import benchmarks, terms
from curate.textnorm import normalize


def named(problem: str) -> terms.Named:
    return terms.terms(normalize(problem), terms.spelled(problem))


def listed(problem: str) -> dict[tuple[str, str], int]:
    """The concepts of the lists (`terms.KINDS`) a problem names."""
    return {term: count for term, count in named(problem).concepts.items() if term[0] in terms.KINDS}


def test_synonyms_are_one_concept_and_commands_count_as_words() -> None:
    assert listed("Find the greatest one; the largest one; its maximum.") == {("extremum", "largest"): 3}
    assert listed("In $\\triangle ABC$ the triangle's incentre is $I$.") == {
        ("figure", "triangle"): 2,
        ("triangle center", "incenter"): 1,
    }
    assert listed("The median of the list") == {("operation", "median"): 1, ("measure", "median"): 1}


def test_antonyms_by_prefix_and_negations_contrast() -> None:
    boxes = "Put $5$ distinguishable balls into $3$ boxes. In how many ways can this be done?"
    assert terms.contrast(named(boxes), named(boxes.replace("distinguishable", "indistinguishable")))
    assert not terms.contrast(named(boxes), named(boxes.replace("boxes", "bins")))
    draws = "Two balls are drawn with replacement. Find the probability that they are not both red."
    assert terms.contrast(named(draws), named(draws.replace("with replacement", "without replacement")))
    assert terms.contrast(named(draws), named(draws.replace("are not both", "are both")))
    assert not terms.contrast(named(draws), named(draws.replace("are not", "aren't")))
    signs = "Let $a, b$ be nonnegative reals with $a + b = 1$."
    assert not terms.contrast(named(signs), named(signs.replace("nonnegative", "non-negative")))
    assert terms.contrast(named(signs), named(signs.replace("nonnegative", "positive")))


def test_a_swap_contrasts_an_insertion_or_a_synonym_does_not() -> None:
    base = named("A square has area $8$. Find the largest possible perimeter of a point set inside it.")
    swapped = named("A rhombus has area $8$. Find the largest possible perimeter of a point set inside it.")
    inserted = named("A square has surface area $8$. Find the largest possible perimeter of a set inside it.")
    synonym = named("A square has area $8$. Find the greatest possible perimeter of a point set inside it.")
    asked = named("A square has area $8$. Find the smallest possible perimeter of a point set inside it.")
    assert terms.contrast(base, swapped) and terms.contrast(swapped, base)
    assert terms.contrast(base, asked)
    assert not terms.contrast(base, inserted) and not terms.contrast(base, synonym)
    dropped = named("A square has area $8$. Find the possible perimeter of a point set inside it.")
    assert not terms.contrast(base, dropped)  # a word left out is not another question


def test_spelled_words_need_a_problem_in_lower_case() -> None:
    problem = "How many distinct arrangements of the letters in the word BANANA are there? (AMC 8)"
    assert terms.spelled(problem) == ["banana"]
    assert terms.spelled(problem.upper()) == [] and terms.spelled(problem.lower()) == []
    assert terms.spelled("Let $ABCD$ be a square and $\\mathrm{PQRSTU}$ a hexagon.") == ["pqrstu"]


def test_real_benchmark_wordings_of_one_problem_rarely_contrast() -> None:
    """Other publishers' wordings of the same benchmark problems (curate/data/benchmarks/variants) retype and
    reword them; at most 1% swap a listed term for another of its kind. The one known case is a real
    difference: one copy of AIME 2024 II-8 says "rests on the outside" twice, where the other says "inside"
    the first time (the statement fixed), so the two texts ask different things."""
    pairs, contrasting = 0, []
    for name in benchmarks.NAMES:
        canonical = {item.id: item.problem for item in benchmarks.canonical(name)}
        for wording in benchmarks.variants(name):
            if wording.id in canonical:
                pairs += 1
                if terms.contrast(named(canonical[wording.id]), named(wording.problem)):
                    contrasting.append(f"{name}/{wording.id}")
    assert pairs > 300 and len(contrasting) <= pairs // 100, contrasting
