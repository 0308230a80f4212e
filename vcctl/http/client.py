"""The HTTP `Transport` of the Api: sends a call with the retry policy, returns parsed answers.

It puts together the transport of one attempt (`vcctl.http.session`), the retry policy
(`vcctl.http.retry`) and the messages a person reads (`vcctl.http.hints`). Nothing here prints
or exits: every failure becomes a `vcctl.errors.VcctlError`; long waits are announced through
`notice`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vcctl.errors import ApiError, Interrupted, InvalidResponseError, NotSent
from vcctl.halt import Halt, process_halt
from vcctl.http import retry
from vcctl.http.body import DEFAULT_MAX_ANSWER_BYTES
from vcctl.http.failures import AttemptFailed
from vcctl.http.session import HttpSession, Response
from vcctl.text import mask

if TYPE_CHECKING:
    import requests

    from vcctl.http.limiter import RateLimiter
    from vcctl.http.retry import CallKind


class Client:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        api_token: str,
        timeout: float,
        max_attempts: int = 5,
        ca_bundle: str | None = None,
        pool_size: int = 10,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        debug: Callable[[str], None] | None = None,
        notice: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        limiter: RateLimiter | None = None,
        halt: Halt | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secrets = {api_key, api_token}
        self.max_attempts = max_attempts
        self._debug = debug
        self._notice = notice  # told of long waits, so that a person does not think it hung
        # Retry waits end early when the run stops (vcctl.halt); tests pass a sleep of their own.
        self._halt = halt
        self._sleep = sleep
        self._rng = rng or random.Random()
        # Shared by every client of the process (vcctl.http.limiter); None: a 429 is an attempt
        # like any other, waited out by this client alone.
        self._limiter = limiter
        self._http = HttpSession(
            api_key=api_key,
            api_token=api_token,
            timeout=timeout,
            ca_bundle=ca_bundle,
            pool_size=pool_size,
            max_answer_bytes=max_answer_bytes,
            log=self._log if debug is not None else None,
        )
        if limiter is not None:
            # Set up (and import) the transport now: set up by the first attempt, it would delay
            # sends whose turn has come, and they would then reach the API in a bunch.
            self._http.session()

    @property
    def timeout(self) -> tuple[float, float]:
        return self._http.timeout

    # -- public -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        kind: CallKind,
        empty_ok: bool = False,
    ) -> Any:
        """Send with the retry policy; return the parsed JSON answer (None if empty and allowed)."""
        response = self.request_raw(method, path, body=body, kind=kind)
        # A success answer vcctl cannot read: a create was carried out all the same.
        done = kind == "create"
        if response.status == 204 or not response.body.strip():
            if empty_ok:
                return None
            raise InvalidResponseError(
                f"HTTP {response.status}: the API answered with an empty body where JSON was "
                "expected",
                status=response.status,
                maybe_carried_out=done,
            )
        try:
            return response.json()
        except InvalidResponseError as exc:
            exc.message = self._scrub(exc.message)  # the excerpt of the body is printed
            exc.maybe_carried_out = done
            raise

    def request_raw(self, method: str, path: str, *, body: Any = None, kind: CallKind) -> Response:
        """Send with retries; return the successful response, or raise a typed error.

        With a limiter, every attempt waits for its turn first and reports its answer; a 429 is
        then retried like any failure, as long as its waits fit the request's budget.
        """
        url = self.base_url + path
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        idempotent = retry.is_idempotent(kind)
        limiter = self._limiter
        budget = limiter.budget() if limiter is not None else None
        maybe_applied = False  # an earlier attempt may have been carried out by the server
        attempt = 0
        rate_limited = 0  # 429s answered to this request (shown in --debug)
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            label = f"{attempt}/{self.max_attempts}"
            if rate_limited:
                label += f", after {rate_limited} rate-limited"
            sent_at = self._acquire(maybe_applied)
            try:
                response = self._http.send_following_redirects(method, url, payload, label)
            except AttemptFailed as failure:
                # No answer: nothing to tell the limiter about the API's rate limit.
                self._log(f"< no answer: {failure.error.message}")
                may_retry = failure.retryable and (idempotent or not failure.reached_server)
                if not may_retry or last:
                    if failure.reached_server and not idempotent:
                        from vcctl.http.hints import MAYBE_CARRIED_OUT

                        failure.error.hint = MAYBE_CARRIED_OUT
                        failure.error.maybe_carried_out = True
                    raise failure.error from None
                maybe_applied = maybe_applied or failure.reached_server
                self._wait(retry.backoff(attempt, self._rng), attempt, str(failure), maybe_applied)
                continue

            status = response.status
            if limiter is not None and budget is not None and status == 429:
                retry_after = retry.parse_retry_after(response.headers.get("Retry-After"))
                pause = limiter.on_rate_limited(retry_after, sent_at=sent_at)
                # A 429 is an attempt like any other (at most max_attempts in all), and its
                # waits must also fit the request's budget.
                if not last and budget.allows(pause):
                    # The next acquire() waits out the shared pause.
                    self._log(
                        f"  HTTP 429: retrying in {pause:.2f} s, every worker waiting "
                        f"(attempt {attempt}/{self.max_attempts}; {budget.spent:.0f} s of the "
                        f"{budget.total:.0f} s allowed spent)"
                    )
                    rate_limited += 1
                    continue
                raise self._error_for(response, kind=kind, retried=attempt > 1)
            if limiter is not None:
                limiter.on_success(sent_at=sent_at)
            if 200 <= status < 300:
                return response
            if status == 404 and kind == "delete" and maybe_applied:
                # An earlier attempt was lost after the server deleted it: done, not missing.
                self._log("  404 after a lost attempt: the earlier DELETE took effect")
                return Response(204, "No Content", {}, b"", response.url)
            if not last and retry.retryable_status(status, idempotent=idempotent):
                maybe_applied = maybe_applied or retry.status_may_hide_a_done_request(status)
                wait = retry.parse_retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = retry.backoff(attempt, self._rng)
                self._wait(wait, attempt, f"HTTP {status}", maybe_applied)
                continue
            raise self._error_for(response, kind=kind, retried=attempt > 1)

    def _acquire(self, maybe_applied: bool) -> float | None:
        """Wait for this attempt's turn at the shared limiter; the time of the turn. Nothing is
        sent once the run is stopping (see `_stopped`)."""
        if self._limiter is None:
            if self._run_halt().tripped:
                raise self._stopped(maybe_applied)
            return None
        from vcctl.http.limiter import RateLimiterClosed

        try:
            turn = self._limiter.acquire()
        except RateLimiterClosed:
            raise self._stopped(maybe_applied) from None
        if self._run_halt().tripped:
            raise self._stopped(maybe_applied)
        return turn

    def _run_halt(self) -> Halt:
        return self._halt if self._halt is not None else process_halt()

    @staticmethod
    def _stopped(maybe_applied: bool) -> Interrupted:
        """The run is stopping: give this request up. Unsent (NotSent) unless an earlier attempt
        may have been carried out, which the caller must report as such."""
        if maybe_applied:
            return Interrupted(
                "stopped before retrying: the command is ending, and an earlier attempt may have "
                "been carried out"
            )
        return NotSent("stopped before sending: the command is ending")

    def close(self) -> None:
        self._http.close()

    def _session_obj(self) -> requests.Session:
        """The requests session (unit tests mount a scripted adapter on it)."""
        return self._http.session()

    # -- failures and waits -------------------------------------------------------------------

    def _error_for(self, response: Response, *, kind: CallKind, retried: bool) -> ApiError:
        from vcctl.http.hints import error_for_status  # only on failure: not on every start

        return error_for_status(
            response.status,
            response.body,
            response.headers.get("Retry-After"),
            kind=kind,
            retried=retried,
            scrub=self._scrub,
        )

    def _wait(self, seconds: float, attempt: int, why: str, maybe_applied: bool) -> None:
        self._log(
            f"  {why}: retrying in {seconds:.2f} s (attempt {attempt + 1}/{self.max_attempts})"
        )
        if self._notice is not None and self._debug is None and seconds >= retry.NOTICE_AFTER:
            self._notice(
                f"{self._scrub(why)}: retrying in {seconds:.0f} s "
                f"(attempt {attempt + 1} of {self.max_attempts})"
            )
        if self._sleep is not None:
            self._sleep(seconds)
        elif self._run_halt().wait(seconds):
            raise self._stopped(maybe_applied)

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(self._scrub(line))

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, mask(secret) or "****")
        return text
