"""tallyman.webhook: one answer to "try again?" and "when?" for every webhook central posts to."""

from __future__ import annotations

import pytest

from tallyman import net, webhook
from tallyman.http_client import Response
from tests.workflows.webhook import Supplier

POLICY = webhook.RetryPolicy(attempts=4, backoff_s=0.01)


def test_policy_backs_off_exponentially_honours_retry_after_and_caps():
    p = webhook.RetryPolicy(attempts=5, backoff_s=1.0, max_delay_s=6.0)
    assert [p.delay_after(k) for k in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert p.delay_after(4) == 6.0  # 8 s capped
    assert p.delay_after(5) is None  # that was the last attempt
    assert p.delay_after(1, retry_after=3.0) == 3.0  # at least what the server asks
    assert p.delay_after(2, retry_after=0.5) == 2.0


@pytest.mark.parametrize(
    ("status", "retried"),
    [(200, False), (204, False), (408, False), (409, False), (422, False), (429, True),
     (500, True), (503, True), (None, True)],
)  # fmt: skip
def test_which_answers_are_retried(monkeypatch, status, retried):
    monkeypatch.setattr(webhook, "request", lambda *a, **k: Response(status))
    out = webhook.post("http://127.0.0.1:9/x", {}, 1, POLICY)
    assert out.ok == (status is not None and status < 300)
    assert (out.retry_in is not None) == retried


@pytest.mark.parametrize(
    ("status", "retried"),
    [(200, False), (400, False), (408, True), (409, True), (422, False), (425, True),
     (429, True), (500, True), (501, False), (502, True), (503, True), (504, True),
     (505, False), (None, True)],
)  # fmt: skip
def test_supplier_sends_retry_on_their_own_set_of_answers(monkeypatch, status, retried):
    from central.workflows import supplier_send

    settings = {"webhook_attempts": 4, "webhook_backoff_s": 0.01}
    policy = supplier_send.Sender(None, settings, lambda: None).retry_policy()  # type: ignore[arg-type]
    monkeypatch.setattr(webhook, "request", lambda *a, **k: Response(status))
    out = webhook.post("http://127.0.0.1:9/x", {}, 1, policy)
    assert (out.retry_in is not None) == retried


def test_post_with_retries_until_accepted_with_one_body_and_headers():
    supplier = Supplier(fail_first=2, fail_status=503)
    waits: list[float] = []
    try:
        out = webhook.post_with_retries(
            supplier.url, {"po": "PO-1"}, POLICY, headers={"Idempotency-Key": "k1"},
            timeout=5, wait=lambda s: waits.append(s),
        )  # fmt: skip
    finally:
        supplier.close()
    assert out.ok and out.attempt == 3 and out.status == 200
    assert [s for s, _, _ in supplier.posts] == [503, 503, 200]
    assert {k for _, k, _ in supplier.posts} == {"k1"} and supplier.booked == {"k1": {"po": "PO-1"}}
    assert waits == [0.01, 0.02]


def test_a_client_error_is_not_retried_and_retry_after_is_honoured():
    refused = Supplier(fail_first=9, fail_status=422)
    limited = Supplier(fail_first=1, fail_status=429, retry_after="0.3")
    try:
        out = webhook.post_with_retries(refused.url, {}, POLICY, wait=lambda s: False)
        assert not out.ok and out.status == 422 and out.attempt == 1 and len(refused.posts) == 1
        waits: list[float] = []
        out = webhook.post_with_retries(limited.url, {}, POLICY, wait=lambda s: waits.append(s))
        assert out.ok and waits == [0.3]
    finally:
        refused.close()
        limited.close()


def test_no_answer_is_retried_until_the_attempts_are_used_up_or_a_stop():
    url = f"http://127.0.0.1:{net.free_port()}/hook"  # nothing listens there
    out = webhook.post_with_retries(url, {}, POLICY, timeout=2, wait=lambda s: False)
    assert not out.ok and out.status is None and out.attempt == 4 and out.retry_in is None
    assert "cannot reach" in out.detail
    stopped = webhook.post_with_retries(url, {}, POLICY, timeout=2, wait=lambda s: True)
    assert stopped.attempt == 1 and not stopped.ok
