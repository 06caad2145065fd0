"""The site's number formats (web/numbers.py): one rule per quantity, the same in every template."""

from __future__ import annotations

import math

import pytest
from django.template import Context, Template

from web import numbers


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ret", 1234.5678, "1,234.6"),
        ("ret", -1234.5678, "-1,234.6"),
        ("ret", -0.04, "0.0"),  # no sign on a zero
        ("ret", 12, "12.0"),
        ("norm", 0.61728, "0.62"),
        ("prob", 0.7312, "0.73"),
        ("rate", 1234.6, "1,235"),
        ("seconds", 3601.7, "3,602"),
        ("steps", 1_000_000, "1,000,000"),
        ("sig3", 0.0098123, "0.00981"),
        ("sig3", 1.23456, "1.23"),
    ],
)
def test_it_prints_each_quantity_by_its_rule(name: str, value: float, expected: str) -> None:
    assert getattr(numbers, name)(value) == expected


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -math.inf, "", "abc"])
def test_it_prints_a_missing_or_non_finite_value_as_a_dash(value: object) -> None:
    assert {numbers.ret(value), numbers.norm(value), numbers.rate(value), numbers.sig3(value)} == {"—"}


def test_templates_load_the_filters_by_name() -> None:
    html = Template("{% load numbers %}{{ r|ret }} {{ p|prob }} {{ s|rate }}").render(
        Context({"r": 1234.5678, "p": 0.7312, "s": 99.5})
    )
    assert html == "1,234.6 0.73 100"


def test_a_list_of_returns_is_separated_by_semicolons_not_commas() -> None:
    assert numbers.returns_list([2948.77, 10.04]) == "2,948.8; 10.0"
    assert numbers.returns_list(None) == ""
