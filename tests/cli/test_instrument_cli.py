"""The ``ketaclinic instrument`` contract: list, score, empty field = unanswered, refusal = exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ketaclinic.cli import SUBCOMMAND_MODULES, main
from ketaclinic.cli.instrument import MSG_ANSWER_NOT_A_NUMBER, parse_answers
from ketaclinic.core.instruments.registry import MSG_UNKNOWN_INSTRUMENT
from ketaclinic.core.instruments.scoring import MSG_OUT_OF_RANGE, MSG_TOO_MANY_MISSING


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_registered():
    assert "ketaclinic.cli.instrument" in SUBCOMMAND_MODULES


def test_list_json(capsys):
    code, out, _ = run(capsys, "instrument", "list", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    assert set(rows) >= {
        "phq9",
        "gad7",
        "pcl5",
        "pain_nrs",
        "cssrs_screener",
        "cadss",
        "dissociation_observation",
    }
    assert rows["phq9"]["range"] == [0, 27]
    assert rows["cssrs_screener"]["wording_missing"] is True
    assert rows["dissociation_observation"]["validated"] is False


def test_list_text_marks_unvalidated_and_missing_wording(capsys):
    code, out, _ = run(capsys, "instrument", "list")
    assert code == 0
    assert "NOT a validated scale" in out
    assert "wording clinic-supplied, missing" in out


def test_score_json_example_from_the_issue(capsys):
    code, out, err = run(capsys, "instrument", "score", "phq9", "--answers", "1,2,0,3,1,0,2,1,0", "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["instrument"] == "phq9"
    assert result["total"] == 10  # 1+2+0+3+1+0+2+1+0
    assert result["severity"] == "moderate"
    assert result["flags"] == []
    assert result["loinc"] == {"panel": "44249-1", "result": "44261-6"}


def test_an_empty_field_is_a_missing_answer(capsys):
    code, out, _ = run(capsys, "instrument", "score", "phq9", "--answers", "1,,0,3,1,0,2,1,1", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["prorated"] is True
    assert result["missing_items"] == ["phq9_2"]
    assert result["total"] == 10.12  # 9 * 9 / 8 = 10.125
    assert result["flags"] == ["suicidal_ideation"]


def test_text_output(capsys):
    code, out, _ = run(capsys, "instrument", "score", "phq9", "--answers", "1,,0,3,1,0,2,1,1")
    assert code == 0
    assert "total 10.12, severity moderate" in out
    assert "FLAG: suicidal_ideation" in out


def test_cssrs_with_skipped_items(capsys):
    code, out, _ = run(capsys, "instrument", "score", "cssrs_screener", "--answers", "1,0,,,,1,1", "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["total"], result["severity"]) == (None, "high")
    assert result["flags"] == ["suicide_risk_moderate_or_high"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["phq9", "--answers", "1,2,0,3,1,0,2,1,4"],
            MSG_OUT_OF_RANGE.format(item="phq9_9", value=4, allowed="0, 1, 2, 3"),
        ),
        (["phq9", "--answers", "1,2,x,3,1,0,2,1,0"], MSG_ANSWER_NOT_A_NUMBER.format(position=3, text="x")),
        (
            ["phq9", "--answers", "1,,,,1,0,2,1,0"],
            MSG_TOO_MANY_MISSING.format(
                name="Patient Health Questionnaire-9 (PHQ-9)",
                missing=3,
                items="questions 2, 3 and 4",
                allowed=2,
            ),
        ),
    ],
)
def test_refused_input_exits_2_with_the_message(capsys, argv, message):
    code, out, err = run(capsys, "instrument", "score", *argv, "--json")
    assert code == 2
    assert out == ""
    assert err.strip() == f"ketaclinic: {message}"


def test_unknown_instrument_exits_2(capsys):
    code, _, err = run(capsys, "instrument", "score", "phq10", "--answers", "1")
    assert code == 2
    assert "Unknown instrument 'phq10'" in err
    assert MSG_UNKNOWN_INSTRUMENT.split("{")[0] in err


def test_parse_answers():
    assert parse_answers("1,,0") == [1, None, 0]
    assert parse_answers(" 2 , 3") == [2, 3]
    assert parse_answers("") == [None]


def test_console_script_exit_status_and_no_django():
    code = (
        "import sys; from ketaclinic.cli import main; "
        "rc = main(['instrument','score','gad7','--answers','1,1,1,1,1,1,9']);"
        "print('django' in sys.modules); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stdout.strip() == "False"
    assert "gad7_7: 9 is not an allowed answer" in proc.stderr
