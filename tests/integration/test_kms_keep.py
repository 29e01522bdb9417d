"""SecretBox keeps what it opened for a bounded time (store/kms.py): one Decrypt per ciphertext and context, again
once `keep_for` has passed, and never a plaintext for a context it was not opened under."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from acuity_sync.secret import Secret
from acuity_sync.store.kms import SecretBox
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counted_kms(stack: ProvisionedStack) -> tuple[Any, Counter[str]]:
    kms = boto3.client("kms", region_name=stack.region)
    calls: Counter[str] = Counter()
    kms.meta.events.register("before-call.kms.*", lambda model, **_: calls.update([model.name]))
    return kms, calls


def test_an_opened_secret_is_kept_for_the_time_given_then_decrypted_again(stack: ProvisionedStack) -> None:
    kms, calls = counted_kms(stack)
    clock = Clock()
    box = SecretBox(kms, stack.kms_key_arn, keep_for=300.0, clock=clock)
    context = {"tenant": "t1", "purpose": "acuity_api_key"}
    sealed = box.seal(Secret("key-one"), context)
    calls.clear()
    assert box.open(sealed, context).reveal() == "key-one"
    clock.now += 299.0
    assert box.open(sealed, context).reveal() == "key-one"
    assert calls == Counter({"Decrypt": 1})
    clock.now += 1.0
    assert box.open(sealed, context).reveal() == "key-one"
    assert calls == Counter({"Decrypt": 2})


def test_a_new_ciphertext_is_decrypted_at_once(stack: ProvisionedStack) -> None:
    """A rotated key or a refreshed token is a new ciphertext: what was kept for the old one is not used."""
    kms, calls = counted_kms(stack)
    box = SecretBox(kms, stack.kms_key_arn, keep_for=300.0, clock=Clock())
    context = {"tenant": "t1", "purpose": "access_token"}
    old, new = box.seal(Secret("old-token"), context), box.seal(Secret("new-token"), context)
    calls.clear()
    assert box.open(old, context).reveal() == "old-token"
    assert box.open(new, context).reveal() == "new-token"
    assert calls == Counter({"Decrypt": 2})


def test_a_kept_secret_is_not_given_for_another_context(stack: ProvisionedStack) -> None:
    """The encryption context binds a ciphertext to its tenant: a copy onto another tenant's item still fails."""
    kms, _ = counted_kms(stack)
    box = SecretBox(kms, stack.kms_key_arn, keep_for=300.0, clock=Clock())
    mine = {"tenant": "t1", "purpose": "acuity_api_key"}
    sealed = box.seal(Secret("key-one"), mine)
    assert box.open(sealed, mine).reveal() == "key-one"
    with pytest.raises(ClientError):
        box.open(sealed, {"tenant": "t2", "purpose": "acuity_api_key"})


def test_without_keep_for_every_open_decrypts(stack: ProvisionedStack) -> None:
    kms, calls = counted_kms(stack)
    box = SecretBox(kms, stack.kms_key_arn)
    context = {"tenant": "t1", "purpose": "acuity_api_key"}
    sealed = box.seal(Secret("key-one"), context)
    calls.clear()
    box.open(sealed, context)
    box.open(sealed, context)
    assert calls == Counter({"Decrypt": 2})


def test_at_most_max_kept_secrets_are_held(stack: ProvisionedStack) -> None:
    kms, calls = counted_kms(stack)
    box = SecretBox(kms, stack.kms_key_arn, keep_for=300.0, max_kept=2, clock=Clock())
    contexts = [{"tenant": f"t{n}", "purpose": "acuity_api_key"} for n in range(3)]
    sealed = [box.seal(Secret(f"key-{n}"), context) for n, context in enumerate(contexts)]
    calls.clear()
    for ciphertext, context in zip(sealed, contexts, strict=True):
        box.open(ciphertext, context)
    box.open(sealed[0], contexts[0])  # the oldest went first
    box.open(sealed[2], contexts[2])  # still kept
    assert calls == Counter({"Decrypt": 4})
