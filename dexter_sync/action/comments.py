"""One pull-request comment, updated in place, through GitHub's REST API.

    GET   /repos/{owner}/{repo}/issues/{number}/comments?per_page=100   (Link pagination)
    POST  /repos/{owner}/{repo}/issues/{number}/comments                {"body"}
    PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}            {"body"}

The comment is found by the hidden marker its body starts with. Reads and the PATCH are
idempotent and retried on connection errors and 5xx; a POST is not (a lost answer would
leave two comments): after a failed POST the list is read again and a comment that did get
made is updated instead. Answers not in GitHub's shape fail closed. Synchronous httpx: a
step makes a handful of sequential requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from ..core.codes import ErrorCode
from ..core.diagnostics import DexterError
from .masking import redact

MAX_PAGES = 50
"""5,000 comments: a pull request with more is not one this step should page through."""
API_VERSION = "2022-11-28"


class GitHubError(DexterError):
    code = ErrorCode.GITHUB_API


class _Retryable(Exception):
    """A transient failure (connection error or 5xx) of an idempotent request."""


@dataclass(frozen=True)
class CommentResult:
    id: int
    url: str | None
    action: str
    """`created` or `updated`"""


def _retryable(error: BaseException) -> bool:
    return isinstance(error, _Retryable)


_retrying = retry(retry=retry_if_exception(_retryable), stop=stop_after_attempt(3),
                  wait=wait_exponential(multiplier=0.2, max=2), reraise=True)


class PullRequestComments:
    def __init__(self, *, api_url: str, token: str, repository: str, number: int,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.repository, self.number = repository, number
        self._client = httpx.Client(
            base_url=api_url.rstrip("/") + "/", transport=transport, timeout=30.0,
            follow_redirects=False,
            headers={"Authorization": f"Bearer {token}",
                     "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION, "User-Agent": "dexter-action"})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, what: str, response: httpx.Response) -> GitHubError:
        try:
            data = response.json()
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
        # GitHub's validation errors say what was wrong in errors[].message
        texts = [data.get("message")] + [e.get("message") for e in data.get("errors") or []
                                         if isinstance(e, dict)]
        shown = [t for t in texts if isinstance(t, str)]
        detail = f": {'; '.join(shown)}" if shown else ""
        hint = (" (the workflow needs `permissions: pull-requests: write` and "
                "GITHUB_TOKEN in the step's env)" if response.status_code in (401, 403, 404)
                else "")
        return GitHubError(redact(f"GitHub answered {response.status_code} to {what}"
                                  f"{detail}{hint}"))

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise _Retryable(redact(f"{what}: {type(error).__name__}: {error}")) from None
        if response.status_code >= 500:
            raise _Retryable(str(self._fail(what, response)))
        if not 200 <= response.status_code < 300:
            raise self._fail(what, response)
        return response

    def _json(self, response: httpx.Response, what: str, shape: type) -> Any:
        if "json" not in response.headers.get("content-type", ""):
            raise GitHubError(f"GitHub's answer to {what} is not JSON "
                              f"({response.headers.get('content-type') or 'no content type'})")
        try:
            data = response.json()
        except ValueError:
            raise GitHubError(f"GitHub's answer to {what} is not valid JSON") from None
        if not isinstance(data, shape):
            raise GitHubError(f"GitHub's answer to {what} is a {type(data).__name__}, "
                              f"not a {shape.__name__}")
        return data

    @_retrying
    def _send_retried(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        return self._send(method, url, what, **kwargs)

    def _idempotent(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._send_retried(method, url, what, **kwargs)
        except _Retryable as error:
            raise GitHubError(f"{error} (3 tries)") from None

    def find(self, mark: str) -> dict[str, Any] | None:
        """The oldest comment whose body starts with `mark` (a second one from a race is
        left alone, never multiplied)."""
        url: str | None = (f"repos/{self.repository}/issues/{self.number}/comments"
                           "?per_page=100")
        for _ in range(MAX_PAGES):
            if url is None:
                return None
            response = self._idempotent("GET", url, "listing the pull request's comments")
            for comment in self._json(response, "listing comments", list):
                if isinstance(comment, dict) and isinstance(comment.get("body"), str) \
                        and comment["body"].startswith(mark) \
                        and isinstance(comment.get("id"), int):
                    return comment
            url = response.links.get("next", {}).get("url")
            if url is not None and httpx.URL(url).host != self._client.base_url.host:
                # the token goes with every request: never follow a link to another host
                raise GitHubError(f"GitHub's next-page link points to another host "
                                  f"({httpx.URL(url).host})")
        raise GitHubError(f"the pull request has more than {MAX_PAGES * 100} comments; "
                          "stopped looking for dexter's")

    def _update(self, comment_id: int, body: str) -> CommentResult:
        response = self._idempotent(
            "PATCH", f"repos/{self.repository}/issues/comments/{comment_id}",
            "updating the plan comment", json={"body": body})
        data = self._json(response, "updating the comment", dict)
        return CommentResult(comment_id, data.get("html_url"), "updated")

    def upsert(self, mark: str, body: str, *, create: bool = True) -> CommentResult | None:
        """Update the marked comment, or create it (when `create`); None when neither."""
        found = self.find(mark)
        if found is not None:
            return self._update(found["id"], body)
        if not create:
            return None
        try:
            response = self._send("POST", f"repos/{self.repository}/issues/{self.number}/"
                                          "comments", "creating the plan comment",
                                  json={"body": body})
        except _Retryable as error:
            made = self.find(mark)  # the POST may have landed though its answer was lost
            if made is None:
                raise GitHubError(str(error)) from None
            return self._update(made["id"], body)
        data = self._json(response, "creating the comment", dict)
        if not isinstance(data.get("id"), int):
            raise GitHubError("GitHub's answer to creating the comment has no id")
        return CommentResult(data["id"], data.get("html_url"), "created")
