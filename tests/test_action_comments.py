"""The pull-request comment client against the loopback GitHub server: retries what is safe
to retry, never leaves two comments after a lost answer, and fails closed on answers that
are not GitHub's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dexter_sync.action.body import marker
from dexter_sync.action.comments import GitHubError, PullRequestComments
from tests.helpers_github import FakeGitHub, fake_github

TOKEN = "ghs_comment-client-token"
MARK = marker("sentry")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github(TOKEN) as server:
        yield server


def client(github: FakeGitHub, token: str = TOKEN) -> PullRequestComments:
    return PullRequestComments(api_url=github.url, token=token, repository="acme/cfg",
                               number=7)


def ours(github: FakeGitHub) -> list[dict]:
    return [c for c in github.on("acme/cfg", 7) if c["body"].startswith(MARK)]


def test_create_then_update_the_same_comment(github: FakeGitHub) -> None:
    with client(github) as comments:
        made = comments.upsert(MARK, f"{MARK}\none")
        again = comments.upsert(MARK, f"{MARK}\ntwo")
    assert made is not None and again is not None
    assert (made.action, again.action, again.id) == ("created", "updated", made.id)
    assert [c["body"] for c in ours(github)] == [f"{MARK}\ntwo"]


def test_without_create_nothing_is_posted(github: FakeGitHub) -> None:
    with client(github) as comments:
        assert comments.upsert(MARK, f"{MARK}\nquiet", create=False) is None
    assert [r.method for r in github.requests] == ["GET"]


def test_a_502_on_the_list_and_the_update_is_retried(github: FakeGitHub) -> None:
    github.add("acme/cfg", 7, f"{MARK}\nold", "github-actions[bot]")
    github.faults += ["502", "ok", "502"]
    with client(github) as comments:
        result = comments.upsert(MARK, f"{MARK}\nnew")
    assert result is not None and result.action == "updated"
    assert [r.method for r in github.requests] == ["GET", "GET", "PATCH", "PATCH"]
    assert [c["body"] for c in ours(github)] == [f"{MARK}\nnew"]


def test_a_lost_answer_to_the_post_is_adopted_not_repeated(github: FakeGitHub) -> None:
    github.faults += ["ok", "lost"]
    with client(github) as comments:
        result = comments.upsert(MARK, f"{MARK}\nbody")
    assert result is not None and result.action == "updated"
    assert [r.method for r in github.requests] == ["GET", "POST", "GET", "PATCH"]
    assert len(ours(github)) == 1


def test_a_proxy_html_page_fails_closed(github: FakeGitHub) -> None:
    github.faults.append("html")
    with client(github) as comments, pytest.raises(GitHubError, match="not JSON"):
        comments.upsert(MARK, f"{MARK}\nbody")
    assert [r.method for r in github.requests] == ["GET"]


def test_a_wrong_token_is_a_clear_error_without_the_token(github: FakeGitHub) -> None:
    with client(github, token="ghs_wrong-token-value") as comments, \
            pytest.raises(GitHubError) as raised:
        comments.upsert(MARK, f"{MARK}\nbody")
    assert "401" in str(raised.value) and "Bad credentials" in str(raised.value)
    assert "pull-requests: write" in str(raised.value)
    assert "ghs_wrong-token-value" not in str(raised.value)


def test_a_body_over_the_limit_is_refused_by_github_with_its_message(github: FakeGitHub
                                                                     ) -> None:
    with client(github) as comments, pytest.raises(GitHubError, match="422.*too long"):
        comments.upsert(MARK, MARK + "x" * 70_000)


def test_a_next_link_to_another_host_is_not_followed(github: FakeGitHub) -> None:
    for i in range(101):
        github.add("acme/cfg", 7, f"note {i}", "alice")
    github.link_base = "http://127.0.0.2:9"
    with client(github) as comments, pytest.raises(GitHubError, match="another host"):
        comments.find(MARK)
    assert len(github.requests) == 1
