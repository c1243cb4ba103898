"""Every class of criteria-file error, each from a broken file, asserted as whole diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import BASE_TRIAL, TrialFolder

import matcher
from matcher.core.errors import CriteriaError, Diagnostic, excerpt

NAME = "NCT00000001.yaml"


def problems(folder: TrialFolder, text: str, name: str = NAME) -> list[tuple[object, ...]]:
    """(line, column, code, path, message) of every diagnostic for one file."""
    path = folder.write(name, text)
    with pytest.raises(CriteriaError) as caught:
        matcher.load_trials(path)
    assert all(d.file == str(path) for d in caught.value.diagnostics)
    return [(d.line, d.column, d.code, d.path, d.message) for d in caught.value.diagnostics]


def with_rule(rule: str) -> str:
    """The base trial with its one rule replaced (``rule`` is YAML at rule indentation)."""
    head = BASE_TRIAL.split("    rule:\n")[0]
    return head + "    rule:\n" + "".join(f"      {line}\n" for line in rule.splitlines())


def test_base_trial_is_valid(folder: TrialFolder) -> None:
    catalog = matcher.load_trials(folder.write(NAME, BASE_TRIAL))
    assert [t.id for t in catalog] == ["NCT00000001"]


def test_unknown_key_gets_a_hint(folder: TrialFolder) -> None:
    text = BASE_TRIAL.replace("    description: Adult.", "    descripton: Adult.")
    assert problems(folder, text) == [
        (8, 5, "missing-key", "inclusion[0]", "missing required key 'description'"),
        (
            9,
            5,
            "unknown-key",
            "inclusion[0].descripton",
            "unknown key 'descripton'; did you mean 'description'?",
        ),
    ]


def test_unknown_rule_name_gets_a_hint(folder: TrialFolder) -> None:
    assert problems(folder, with_rule("agee: {min: 18}")) == [
        (
            12,
            7,
            "unknown-rule",
            "inclusion[0].rule",
            "unknown rule 'agee'; did you mean 'age'? (rules: age, sex, attribute, condition, "
            "medication, observation, pregnant, lactating, all, any, not, at_least)",
        ),
    ]


def test_two_rule_names_in_one_mapping(folder: TrialFolder) -> None:
    assert problems(folder, with_rule("age: {min: 18}\nsex: [male]")) == [
        (
            12,
            7,
            "unknown-rule",
            "inclusion[0].rule",
            "a rule has exactly one key, the rule name; found 'age', 'sex': combine several rules "
            "with 'all' or 'any'",
        ),
    ]


def test_unknown_concept_gets_a_hint(folder: TrialFolder) -> None:
    assert problems(folder, with_rule("medication: {concept: test_drug, current: true}")) == [
        (
            12,
            29,
            "unknown-concept",
            "inclusion[0].rule.medication.concept",
            "unknown medication concept set 'test_drug'; did you mean 'test_drugs'?",
        ),
    ]


def test_concept_of_the_wrong_kind(folder: TrialFolder) -> None:
    assert problems(folder, with_rule("condition: {concept: test_drugs}")) == [
        (
            12,
            28,
            "concept-kind",
            "inclusion[0].rule.condition.concept",
            "'test_drugs' is a medication concept set; this rule needs a condition set",
        ),
    ]


def test_duplicate_yaml_key(folder: TrialFolder) -> None:
    text = BASE_TRIAL.replace("sponsor: Test sponsor\n", "sponsor: Test sponsor\nsponsor: Other\n")
    assert problems(folder, text) == [
        (
            5,
            1,
            "duplicate-key",
            "sponsor",
            "key 'sponsor' is already defined on line 4; each key may appear once",
        ),
    ]


def test_reversed_range(folder: TrialFolder) -> None:
    assert problems(folder, with_rule("age: {min: 70, max: 18}")) == [
        (
            12,
            12,
            "reversed-range",
            "inclusion[0].rule.age",
            "age: the lower bound 70 is above the upper bound 18",
        ),
    ]


def test_negative_duration(folder: TrialFolder) -> None:
    assert problems(folder, with_rule("medication: {concept: test_drugs, within: -1 year}")) == [
        (
            12,
            49,
            "negative-duration",
            "inclusion[0].rule.medication.within",
            "a duration cannot be negative",
        ),
    ]


def test_malformed_duration(folder: TrialFolder) -> None:
    assert problems(folder, with_rule("medication: {concept: test_drugs, within: 1 yr}")) == [
        (
            12,
            49,
            "invalid-duration",
            "inclusion[0].rule.medication.within",
            "expected a duration such as '30 days', '12 weeks', '3 months' or '1 year'",
        ),
    ]


def test_duplicate_criterion_id(folder: TrialFolder) -> None:
    text = BASE_TRIAL + (
        "exclusion:\n"
        "  - id: adult\n"
        "    description: Also adult.\n"
        "    source: test exclusion 1\n"
        "    review: asked at screening\n"
    )
    assert problems(folder, text) == [
        (
            14,
            9,
            "duplicate-id",
            "exclusion[0].id",
            "criterion id 'adult' is already used by inclusion[0]",
        ),
    ]


def test_unknown_attribute_and_value(folder: TrialFolder) -> None:
    rule = (
        "all:\n"
        "  - attribute: {name: militry_status, in: [veteran]}\n"
        "  - attribute: {name: military_status, in: [veterans]}\n"
    )
    assert problems(folder, with_rule(rule)) == [
        (
            13,
            29,
            "unknown-attribute",
            "inclusion[0].rule.all[0].attribute.name",
            "unknown patient attribute 'militry_status'; did you mean 'military_status'?",
        ),
        (
            14,
            51,
            "unknown-attribute-value",
            "inclusion[0].rule.all[1].attribute.in[0]",
            "'military_status' has no value 'veterans'; did you mean 'veteran'? (values: "
            "active_duty, veteran, retired, reserve, dependent, civilian)",
        ),
    ]


def test_yaml_syntax_error(folder: TrialFolder) -> None:
    text = BASE_TRIAL.replace("title: Test trial", "title: [Test trial")
    ((line, column, code, path, message),) = problems(folder, text)
    assert (line, column, code, path) == (3, 7, "yaml-syntax", "")
    assert message.startswith("while parsing a flow sequence")


def test_all_errors_are_reported_in_one_run(folder: TrialFolder) -> None:
    text = (
        BASE_TRIAL.replace("status: recruiting", "status: recruting")
        .replace("      age: {min: 18}", "      age: {min: 18, max: 10}")
        .replace("last_reviewed: 2025-01-01", "last_reviewed: 2025-02-30")
    )
    found = problems(folder, text)
    assert [(line, code, path) for line, _, code, path, _ in found] == [
        (3, "invalid-value", "status"),
        (6, "invalid-value", "last_reviewed"),
        (12, "reversed-range", "inclusion[0].rule.age"),
    ]


def test_document_that_is_a_list(folder: TrialFolder) -> None:
    assert problems(folder, "- id: NCT00000001\n") == [
        (1, 1, "not-a-mapping", "", "expected a mapping of keys to values, got a list"),
    ]


def test_empty_file(folder: TrialFolder) -> None:
    assert problems(folder, "# nothing here\n") == [
        (1, 1, "empty-document", "", "the file holds no document"),
    ]


def test_file_named_after_another_trial(folder: TrialFolder) -> None:
    assert problems(folder, BASE_TRIAL, name="NCT00000002.yaml") == [
        (1, 5, "file-name", "id", "the file of trial NCT00000001 must be named NCT00000001.yaml"),
    ]


def test_alias_bomb_is_refused_without_expanding(folder: TrialFolder) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    found = problems(folder, "\n".join(lines) + "\n")
    assert found == [
        (
            7,
            10,
            "yaml-too-complex",
            "",
            "the document expands to more than 2,000,000 values (anchors and aliases repeated "
            "too often)",
        ),
    ]


def test_deep_nesting_is_refused_without_recursion(folder: TrialFolder) -> None:
    found = problems(folder, "x: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert found == [
        (1, 103, "yaml-too-complex", "", "the document nests deeper than 100 levels"),
    ]


def test_deeply_nested_rules_are_refused(folder: TrialFolder) -> None:
    rule = "not:\n" + "".join("  " * depth + "not:\n" for depth in range(1, 17))
    rule += "  " * 17 + "age: {min: 18}\n"
    assert problems(folder, with_rule(rule)) == [
        (8, 5, "too-deep", "inclusion[0]", "rules are nested more than 16 levels deep"),
    ]


def test_broken_file_among_good_ones(folder: TrialFolder) -> None:
    folder.write(NAME, BASE_TRIAL)
    broken = folder.write(
        "NCT00000002.yaml",
        BASE_TRIAL.replace("NCT00000001", "NCT00000002").replace(
            "age: {min: 18}", "age: {min: -1}"
        ),
    )
    catalog = matcher.load_trials(folder.root, strict=False)
    assert [t.id for t in catalog] == ["NCT00000001"]
    assert catalog.problems == (
        Diagnostic(
            "invalid-value",
            "expected greater than or equal to 0",
            str(broken),
            12,
            18,
            "inclusion[0].rule.age.min",
        ),
    )


def test_not_utf8(folder: TrialFolder) -> None:
    path = folder.root / NAME
    path.write_bytes(BASE_TRIAL.replace("Test sponsor", "Caf\xe9").encode("latin-1"))
    with pytest.raises(CriteriaError) as caught:
        matcher.load_trials(Path(path))
    assert caught.value.diagnostics == (
        Diagnostic(
            "not-utf8", "byte 0xe9 is not valid UTF-8; save the file as UTF-8", str(path), 4, 13
        ),
    )


def test_utf8_bom_is_accepted(folder: TrialFolder) -> None:
    path = folder.root / NAME
    path.write_bytes(b"\xef\xbb\xbf" + BASE_TRIAL.encode())
    assert [t.id for t in matcher.load_trials(path)] == ["NCT00000001"]


# --- the source line under a criteria diagnostic (the CLI prints it; see tests/test_cli.py) -----


def at(line: int, column: int) -> Diagnostic:
    return Diagnostic("unknown-rule", "unknown rule", "t.yaml", line, column)


@pytest.mark.parametrize(
    ("text", "diagnostic", "expected"),
    [
        ("a: 1\n  agee: 2\n", at(2, 3), (" 2 |   agee: 2", "   | " + "  ^")),
        # a tab is shown as one space, so that the caret stays under its column
        ("\tkey: 1\n", at(1, 2), (" 1 |  key: 1", "   |  ^")),
        # a column past the end of the line points just after it
        ("short\n", at(1, 40), (" 1 | short", "   |      ^")),
        # an invisible bidirectional control is escaped, and the caret moves with it
        ("x\u202e: 1\n", at(1, 3), (" 1 | x\\u202e: 1", "   | " + " " * 7 + "^")),
        # no position, or a line the text does not have: nothing to show
        ("a: 1\n", at(0, 0), ()),
        ("a: 1\n", at(9, 1), ()),
    ],
)
def test_excerpt_puts_a_caret_under_the_column(
    text: str, diagnostic: Diagnostic, expected: tuple[str, ...]
) -> None:
    assert excerpt(diagnostic, text) == expected


def test_a_long_line_is_cut_around_the_column() -> None:
    line = "k: " + "".join(f"{i:03d} " for i in range(60))  # 243 characters
    column = line.index("030") + 1
    shown, caret = excerpt(at(1, column), line + "\n")
    assert shown.startswith(" 1 | ...") and shown.endswith("...")
    assert len(shown) == len(" 1 | ") + 3 + 100 + 3
    assert shown[caret.index("^") : caret.index("^") + 3] == "030"
