"""Filters on the source's own columns: cheap, so recipes list them first."""

from __future__ import annotations

from pydantic import Field, model_validator

from curate.filters import KEEP, Drop, FilterParams, Row, RowFilter, Trace, TraceFilter, Verdict, register


class MembershipParams(FilterParams):
    include: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> MembershipParams:
        if self.include is None and not self.exclude:
            raise ValueError("give `include` or `exclude` (a list of values)")
        return self


class _Membership(RowFilter[MembershipParams]):
    """Keep rows whose column value is in `include` (when given) and not in `exclude`."""

    column: str = ""

    def required_columns(self) -> tuple[str, ...]:
        return (self.column,)

    def filter(self, row: Row) -> Verdict:
        value = row[self.column]
        params = self.params
        if value in params.exclude:
            return Drop("excluded", f"{self.column}={value!r} is excluded")
        if params.include is not None and value not in params.include:
            return Drop("not_included", f"{self.column}={value!r} is not in {params.include}")
        return KEEP


@register("source")
class SourceFilter(_Membership):
    """Keep rows by `source` (olympiads, cn_k12, aops_forum, amc_aime, ...): `include` and/or `exclude`."""

    column = "source"


@register("question_type")
class QuestionTypeFilter(_Membership):
    """Keep rows by `question_type` (math-word-problem, MCQ, proof): `include` and/or `exclude`."""

    column = "question_type"


@register("problem_type")
class ProblemTypeFilter(_Membership):
    """Keep rows by `problem_type` (Algebra, Geometry, Number Theory, ...): `include` and/or `exclude`."""

    column = "problem_type"


Scalar = str | int | float | bool | None


class ColumnValuesParams(FilterParams):
    column: str = Field(description="the column to read: a row-model column or any column of the source")
    include: list[Scalar] | None = None
    exclude: list[Scalar] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> ColumnValuesParams:
        if self.include is None and not self.exclude:
            raise ValueError("give `include` or `exclude` (a list of values; null matches a missing value)")
        return self


@register("column_values")
class ColumnValues(RowFilter[ColumnValuesParams]):
    """Keep rows by the value of any column (`include` and/or `exclude`; null matches a missing value):
    OpenThoughts' `domain`, NuminaMath's `problem_is_valid`, OpenMathReasoning's `generation_model`."""

    def required_columns(self) -> tuple[str, ...]:
        return (self.params.column,)

    def filter(self, row: Row) -> Verdict:
        p = self.params
        value = row[p.column]
        if value in p.exclude:
            return Drop("excluded", f"{p.column}={value!r} is excluded")
        if p.include is not None and value not in p.include:
            return Drop("not_included", f"{p.column}={value!r} is not in {p.include}")
        return KEEP


class CorrectnessCountParams(FilterParams):
    min: int = Field(1, ge=0)


@register("correctness_count")
class CorrectnessCount(RowFilter[CorrectnessCountParams]):
    """Keep rows where at least `min` generations were judged correct by the dataset's own labels."""

    columns = ("correctness_count",)

    def filter(self, row: Row) -> Verdict:
        count = row["correctness_count"]
        minimum = self.params.min
        if count is None or count < minimum:
            return Drop("too_few_correct", f"correctness_count={count} < {minimum}")
        return KEEP


@register("is_reasoning_complete")
class ReasoningComplete(TraceFilter[FilterParams]):
    """Keep generations the source marks complete (`is_reasoning_complete[i]`); unknown counts as incomplete."""

    columns = ("is_reasoning_complete",)

    def filter(self, trace: Trace) -> Verdict:
        if trace.is_reasoning_complete is True:
            return KEEP
        return Drop(
            "incomplete", f"generation {trace.index}: is_reasoning_complete={trace.is_reasoning_complete}"
        )


class FinishReasonParams(FilterParams):
    allowed: list[str] = Field(default_factory=lambda: ["stop"])
    allow_missing: bool = False


@register("finish_reason")
class FinishReason(TraceFilter[FinishReasonParams]):
    """Keep generations whose `finish_reasons[i]` is allowed (`stop`: not cut by the 16k generation cap)."""

    columns = ("finish_reasons",)

    def filter(self, trace: Trace) -> Verdict:
        params = self.params
        reason = trace.finish_reason
        if reason is None:
            return (
                KEEP
                if params.allow_missing
                else Drop("finish_missing", f"generation {trace.index}: no finish reason")
            )
        if reason not in params.allowed:
            return Drop("finish_" + reason, f"generation {trace.index}: finish_reason={reason!r}")
        return KEEP
