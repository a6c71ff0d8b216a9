"""make deploy's questions (tools/stack.py): only what has no default, each when it applies, checked against the
template's own patterns, and answered into one `sam deploy` that saves them for next time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.stack import ask, sam_deploy_command


def answering(*answers: str) -> tuple[list[str], object]:
    asked: list[str] = []
    replies: Iterator[str] = iter(answers)

    def read(prompt: str) -> str:
        asked.append(prompt)
        return next(replies)

    return asked, read


def test_the_most_a_newcomer_is_asked_is_eleven_questions_essentials_first() -> None:
    asked, read = answering(
        *("my-billing", "eu-west-1", "sandbox"),
        *("https://issuer.example.com/", "client-1", "claim", "", ""),  # Enter: the claim's default, no CORS
        *("billing.example.com", "Z0123456789AB", ""),
    )
    answers = ask({}, read)  # type: ignore[arg-type]

    assert len(asked) == 11
    assert [prompt.split(" ")[0] for prompt in asked[:3]] == ["Stack", "AWS", "Paddle"]
    assert answers["CustomerIdClaim"] == "custom:paddle_customer_id"  # Enter: the template's default
    command = sam_deploy_command(answers)
    assert command[command.index("--stack-name") + 1] == "my-billing"
    assert "DomainName=billing.example.com" in command
    assert "--save-params" in command  # the next make deploy offers these answers as its defaults


def test_what_does_not_apply_is_not_asked() -> None:
    asked, read = answering("", "", "", "", "api.example.com/billing", "")
    answers = ask({"stack_name": "paddle-portal", "region": "us-east-1"}, read)  # type: ignore[arg-type]

    assert len(asked) == 6  # no issuer: no audience, lookup, claim or CORS; a mapped path: no hosted zone
    assert answers == {
        "stack_name": "paddle-portal",
        "region": "us-east-1",
        "PaddleEnvironment": "auto",
        "JwtIssuer": "",
        "DomainName": "api.example.com/billing",
        "AlarmTopicArn": "",
    }


@pytest.mark.parametrize(
    ("question", "refused", "accepted"),
    [
        pytest.param(2, "staging", "sandbox", id="environment-not-allowed"),
        pytest.param(3, "http://issuer.example.com", "", id="issuer-not-https"),
    ],
)
def test_an_answer_the_template_would_refuse_is_asked_again(
    question: int, refused: str, accepted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = ["stack", "us-east-1", "", "", "", ""]
    replies[question:question] = [refused]
    replies[question + 1] = accepted
    asked, read = answering(*replies)

    ask({}, read)  # type: ignore[arg-type]

    assert asked[question] == asked[question + 1]  # the same question again
    assert capsys.readouterr().out.strip()
