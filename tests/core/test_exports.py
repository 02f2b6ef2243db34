from jifen.core.exports import safe_cell, safe_row


def test_text_that_would_run_as_a_formula_gets_an_apostrophe():
    assert safe_row(["=1+1", "+SUM(A1)", "@cmd", "-x", "正常"]) == [
        "'=1+1", "'+SUM(A1)", "'@cmd", "'-x", "正常"]


def test_numbers_and_numeric_text_are_left_alone():
    assert [safe_cell(v) for v in (-5, 3.5, "-5", "+12.5", None)] == [
        -5, 3.5, "-5", "+12.5", None]
