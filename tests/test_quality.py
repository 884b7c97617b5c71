"""crmkit.quality: standardisation, comparisons, blocking, Fellegi-Sunter with EM, clusters, evaluation."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.datasets import synthetic_people
from crmkit.entities import Address, Contact
from crmkit.errors import InsufficientData, NotFittedError, ValidationError
from crmkit.quality import (
    MISSING,
    Block,
    Date,
    Exact,
    FellegiSunter,
    Records,
    SortedNeighbourhood,
    Text,
    candidate_pairs,
    evaluate,
    standardise,
)

pytest.importorskip("rapidfuzz")

PEOPLE_COMPARISONS = [
    Text("first_name", swap="last_name"),
    Text("last_name", term_frequencies=True),
    Exact("email"),
    Exact("phone"),
    Text("street"),
    Text("city"),
    Exact("postcode"),
    Date("date_of_birth"),
]
PEOPLE_BLOCKING = [
    Block("email"),
    Block("phone"),
    Block("last_name", prefix=3),
    Block("first_name", "date_of_birth"),
    Block("postcode"),
    SortedNeighbourhood("street", window=3),
]


def _clean(people: object) -> Records:
    return standardise(
        people.columns,  # type: ignore[attr-defined]
        names=["first_name", "last_name"],
        emails=["email"],
        phones=["phone"],
        postcodes=["postcode"],
        dates=["date_of_birth"],
        default_region="GB",
    ).records


# -- standardisation ------------------------------------------------------------------------


def test_standardise_names_codes_and_dates_and_reports_each_change() -> None:
    r = Records(
        {
            "name": ["Mrs. Ｊａｎｅ  DOE", "John Smith Jr.", "O'Brien-Lee", None],
            "email": ["Ada@Example.COM", "not-an-address", None, "x@y.org"],
            "postcode": ["sw1a  1aa", "ec1a-1bb", None, "  "],
            "country": ["gb", "Fr", "XX", None],
            "born": ["1815-12-10", "10/12/1815", "18151210", "31/02/2000"],
        }
    )
    s = standardise(
        r, names=["name"], emails=["email"], postcodes=["postcode"], countries=["country"],
        dates=["born"],
    )  # fmt: skip
    out = s.records
    assert out["name"].tolist() == ["jane doe", "john smith", "o'brien-lee", None]
    assert out["name_honorific"].tolist() == ["mrs", None, None, None]
    assert out["name_suffix"].tolist() == [None, "jr", None, None]
    assert out["email"].tolist() == ["ada@example.com", None, None, "x@y.org"]
    assert out["postcode"].tolist() == ["SW1A 1AA", "EC1A-1BB", None, None]
    assert out["country"].tolist() == ["GB", "FR", None, None]
    assert out["born"].tolist() == ["1815-12-10", "1815-12-10", "1815-12-10", None]
    changes = {c.column: c for c in s.changes}
    assert (changes["name"].changed, changes["name"].invalid) == (3, 0)
    assert (changes["email"].changed, changes["email"].invalid) == (1, 1)
    assert (changes["country"].changed, changes["country"].invalid) == (2, 1)
    assert (changes["born"].changed, changes["born"].invalid) == (2, 1)
    assert r["name"][0] == "Mrs. Ｊａｎｅ  DOE"  # the input is left as it was
    # Month first when asked.
    us = standardise(Records({"d": ["02/03/2001"]}), dates=["d"], dayfirst=False)
    assert us.records["d"].tolist() == ["2001-02-03"]


def test_standardise_refuses_unknown_columns_and_regions() -> None:
    r = Records({"a": ["x"]})
    with pytest.raises(ValidationError, match="not a column"):
        standardise(r, names=["b"])
    with pytest.raises(ValidationError):
        standardise(r, phones=["a"], default_region="not a region")


def test_records_from_contacts_rows_and_bad_columns() -> None:
    ada = Contact(
        first_name="Ada", last_name="Lovelace", email="Ada@Example.com", phone="+442079460958",
        address=Address(lines=["12 St James's Square"], city="London", postal_code="SW1Y 4LB",
                        country="GB"),
    )  # fmt: skip
    grace = Contact(first_name="Grace", last_name="Hopper")
    r = Records.from_contacts([ada, grace])
    assert r.ids.tolist() == [ada.id, grace.id]
    assert r["email"].tolist() == ["ada@example.com", None]
    assert r["postcode"].tolist() == ["SW1Y 4LB", None]
    rows = Records.from_rows([{"id": "a", "n": 1}, {"id": "b", "m": 2.5}], id_column="id")
    assert rows.ids.tolist() == ["a", "b"] and rows["n"].tolist() == ["1", None]
    with pytest.raises(ValidationError, match="has 1 values where the other columns have 2"):
        Records({"a": ["x", "y"], "b": ["z"]})
    with pytest.raises(ValidationError, match=r"a\[0\]: must be text"):
        Records({"a": [{"nested": 1}]})


# -- comparisons ----------------------------------------------------------------------------


def _levels(
    comparison: object, left: list[object], right: list[object], **other: list[object]
) -> list[int]:
    n = len(left)
    columns = {comparison.column: left + right, **{k: v + v[::-1] for k, v in other.items()}}  # type: ignore[attr-defined]
    r = Records(columns)
    idx = np.arange(n)
    return comparison.levels(r, idx, idx + n).tolist()  # type: ignore[attr-defined]


def test_text_levels_follow_jaro_winkler_and_levenshtein() -> None:
    t = Text("n")
    assert t.labels == ("exact", "jaro_winkler >= 0.92", "jaro_winkler >= 0.8", "different")
    # Jaro-Winkler of MARTHA/MARHTA is 0.961, DWAYNE/DUANE 0.84, DIXON/DICKSONX 0.813
    # (Winkler 1990's examples), far apart strings score low.
    got = _levels(t, ["martha", "dwayne", "dixon", "abc", None, "same"],
                  ["marhta", "duane", "dicksonx", "xyz", "x", "same"])  # fmt: skip
    assert got == [1, 2, 2, 3, MISSING, 0]
    lev = Text("n", metric="levenshtein", thresholds=(1, 2))
    assert _levels(lev, ["kitten", "flaw", "ab"], ["sitten", "lawn", "xyz"]) == [1, 2, 3]
    with pytest.raises(ValidationError, match="strongest agreement to the weakest"):
        Text("n", thresholds=(0.8, 0.9))


def test_swapped_names_have_their_own_level() -> None:
    t = Text("first", swap="last")
    assert t.labels[1] == "swapped with last"
    r = Records({"first": ["john", "smith", "john"], "last": ["smith", "john", "smyth"]})
    assert t.levels(r, np.array([0, 0]), np.array([1, 2])).tolist() == [1, 0]


def test_date_levels() -> None:
    d = Date("d", days=(31, 366))
    got = _levels(d, ["2001-03-04", "2001-03-04", "1990-01-01", "1990-01-01", None],
                  ["2001-04-03", "2001-03-04", "1990-01-20", "1995-01-01", "2000-01-01"])  # fmt: skip
    assert got == [1, 0, 2, 4, MISSING]
    with pytest.raises(ValidationError, match="ISO dates"):
        _levels(d, ["01/02/2001"], ["2001-02-01"])


def test_exact_levels_and_missing() -> None:
    assert _levels(Exact("e"), ["a", "a", None], ["a", "b", "a"]) == [0, 1, MISSING]


# -- blocking -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["ab", "ac", "b", "bc"])), min_size=0, max_size=40
    ),
    st.integers(1, 2),
    st.integers(2, 5),
)
def test_blocking_equals_brute_force(keys: list[str | None], prefix: int, window: int) -> None:
    if len(keys) < 1:
        return
    r = Records({"k": keys, "s": [str(i % 7) for i in range(len(keys))]})
    got = candidate_pairs(r, [Block("k", prefix=prefix)])
    want = {
        (i, j)
        for i, j in combinations(range(len(keys)), 2)
        if keys[i] is not None and keys[j] is not None and keys[i][:prefix] == keys[j][:prefix]
    }
    assert set(zip(got.left.tolist(), got.right.tolist(), strict=True)) == want
    assert np.all(got.left < got.right)
    # A sorted neighbourhood pairs records at most window - 1 apart in the sorted order.
    sn = candidate_pairs(r, [SortedNeighbourhood("s", window=window)])
    order = sorted(range(len(keys)), key=lambda i: (str(i % 7), i))
    near = {
        (min(order[a], order[b]), max(order[a], order[b]))
        for a in range(len(order))
        for b in range(a + 1, min(a + window, len(order)))
    }
    assert set(zip(sn.left.tolist(), sn.right.tolist(), strict=True)) == near


def test_oversized_blocks_are_skipped_and_reported() -> None:
    r = Records({"k": ["same"] * 5 + ["x", "x"]})
    c = candidate_pairs(r, [Block("k", max_block=4)])
    assert list(zip(c.left.tolist(), c.right.tolist(), strict=True)) == [(5, 6)]
    assert c.by_rule == (("k", 1, 1),)
    assert "1 oversized blocks skipped" in c.report()


# -- the model ------------------------------------------------------------------------------


def test_em_recovers_known_m_and_share_from_simulated_comparisons() -> None:
    """FieldComparison vectors drawn from a known Fellegi-Sunter model: EM finds its m and lambda."""
    rng = np.random.default_rng(4)
    m_true = [np.array([0.85, 0.1, 0.05]), np.array([0.9, 0.1]), np.array([0.7, 0.2, 0.1])]
    u_true = [np.array([0.01, 0.04, 0.95]), np.array([0.02, 0.98]), np.array([0.05, 0.15, 0.8])]
    n, share = 200_000, 0.2
    match = rng.random(n) < share
    levels = np.column_stack(
        [
            np.where(match, rng.choice(m.size, n, p=m), rng.choice(u.size, n, p=u))
            for m, u in zip(m_true, u_true, strict=True)
        ]
    ).astype(np.int8)
    comparisons = [Text("a", thresholds=(0.9,)), Exact("b"), Text("c", thresholds=(0.9,))]
    model = FellegiSunter(comparisons, blocking=[Block("a")])
    m, got_share, _ = model._em(levels, u_true, comparisons)
    assert got_share == pytest.approx(match.mean(), abs=0.005)
    for got, want in zip(m, m_true, strict=True):
        np.testing.assert_allclose(got, want, atol=0.01)


def test_easy_profile_meets_the_target_and_hard_profile_is_reported() -> None:
    for profile, floor in (("easy", 0.99), ("hard", 0.97)):
        people = synthetic_people(5000, profile=profile, seed=11)
        model = FellegiSunter(PEOPLE_COMPARISONS, blocking=PEOPLE_BLOCKING).fit(_clean(people))
        result = evaluate(model.clusters(0.9).labels, people.entity, candidates=model.candidates_)
        assert result.pair_f1 >= floor, (profile, str(result))
        assert result.blocking_recall is not None and result.blocking_recall > 0.98


def test_explanations_add_up_and_term_frequencies_favour_rare_names() -> None:
    rows = {
        "first_name": ["john", "john", "anna", "anna"] + [f"p{i}" for i in range(200)],
        "last_name": ["smith", "smith", "zwicker", "zwicker"] + ["smith"] * 100 + [f"q{i}" for i in range(100)],
        "email": [None] * 204,
    }  # fmt: skip
    model = FellegiSunter(
        [Text("first_name"), Exact("last_name", term_frequencies=True), Exact("email")],
        blocking=[Block("last_name"), Block("first_name")],
    ).fit(Records(rows))
    common, rare = model.explain(0, 1), model.explain(2, 3)
    assert rare.terms[1].weight > common.terms[1].weight + 4  # log2(102/2) more evidence
    for e in (common, rare):
        assert e.weight == pytest.approx(e.prior + sum(t.weight for t in e.terms))
        assert e.probability == pytest.approx(1 / (1 + 2**-e.weight))
    text = str(rare)
    assert "last_name: exact" in text and "email: missing" in text


def test_chains_are_reported_as_loose_clusters() -> None:
    """A ~ B (same person, moved) and B ~ C (same phone and new address): one cluster, A !~ C."""
    people = synthetic_people(2000, profile="hard", seed=8)
    planted = {
        "first_name": ["Amy", "Amy", "Bob"],
        "last_name": ["Zedd", "Zedd", "Quux"],
        "email": ["amy@zedd.org", "amy@zedd.org", "bob@quux.org"],
        "phone": ["+447000000001", "+447000000002", "+447000000002"],
        "street": ["1 Elm Road", "9 Oak Lane", "9 Oak Lane"],
        "city": ["York", "Bath", "Bath"],
        "postcode": ["YO1 1AA", "BA1 9ZZ", "BA1 9ZZ"],
        "date_of_birth": ["1980-01-02", "1980-01-02", "1975-05-06"],
    }
    columns = {
        c: np.concatenate([v, np.array(planted[c], dtype=object)])
        for c, v in people.columns.items()
    }
    model = FellegiSunter(PEOPLE_COMPARISONS, blocking=PEOPLE_BLOCKING).fit(
        _clean(type("P", (), {"columns": columns})())
    )
    a, b, c = 2000, 2001, 2002
    clusters = model.clusters(0.9)
    assert clusters.labels[a] == clusters.labels[b] == clusters.labels[c]
    assert model.score_pairs([a], [c]).probability[0] < 0.01
    loose = {x.label: x for x in clusters.loose}
    chain = loose[int(clusters.labels[a])]
    assert chain.size == 3 and chain.weak_pairs == 1 and chain.weakest < 0.01
    assert [a, b, c] in clusters.duplicates()


def test_fit_refusals_and_fitted_state() -> None:
    model = FellegiSunter([Exact("email")], blocking=[Block("email")])
    with pytest.raises(NotFittedError):
        model.clusters()
    with pytest.raises(InsufficientData, match="leaves email free"):
        model.fit(Records({"email": ["a", "a", "b"]}))
    with pytest.raises(InsufficientData, match="paired no records"):
        FellegiSunter([Exact("e")], blocking=[Block("f")]).fit(
            Records({"e": ["a", "b"], "f": ["x", "y"]})
        )
    with pytest.raises(ValidationError, match="comparisons"):
        FellegiSunter([], blocking=[Block("e")])
    with pytest.raises(ValidationError, match="blocking"):
        FellegiSunter([Exact("e")], blocking=["e"])
    people = synthetic_people(400, seed=2)
    fitted = FellegiSunter(PEOPLE_COMPARISONS, blocking=PEOPLE_BLOCKING).fit(_clean(people))
    assert set(fitted.m_) == {c.column for c in PEOPLE_COMPARISONS}
    assert all(abs(sum(levels.values()) - 1) < 1e-9 for levels in fitted.u_.values())
    assert 0 < fitted.prior_ < 0.01
    assert "fitted" in repr(fitted)
    with pytest.raises(ValidationError, match="positions"):
        fitted.score_pairs([0], [10_000])


# -- evaluation -----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=30))
def test_pair_counts_equal_brute_force(labels: list[tuple[int, int]]) -> None:
    predicted = [p for p, _ in labels]
    truth = [t for _, t in labels]
    e = evaluate(predicted, truth)
    pairs = list(combinations(range(len(labels)), 2))
    both = sum(predicted[i] == predicted[j] and truth[i] == truth[j] for i, j in pairs)
    pred = sum(predicted[i] == predicted[j] for i, j in pairs)
    true = sum(truth[i] == truth[j] for i, j in pairs)
    assert (e.predicted_pairs, e.true_pairs) == (pred, true)
    assert e.pair_precision == pytest.approx(both / pred if pred else 1.0)
    assert e.pair_recall == pytest.approx(both / true if true else 1.0)
    same = evaluate(truth, truth)
    assert same.pair_f1 == same.cluster_f1 == 1.0


# -- the command line -----------------------------------------------------------------------


def test_dedupe_command_on_csv_and_json_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import json

    from crmkit.cli import main

    people = synthetic_people(600, profile="hard", seed=9)
    rows = people.rows()
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["dedupe", str(path), "--region", "GB", "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert "clusters of duplicates at probability >= 0.9" in text
    assert "cluster 1" in text and "cluster 4" not in text and "match weight" in text
    jsonl = tmp_path / "people.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert main(["dedupe", str(jsonl), "--region", "GB", "--json", "--threshold", "0.5"]) == 0
    report = json.loads(capsys.readouterr().out)
    found = [c["records"] for c in report["clusters"]]
    truth = {r["record_id"]: e for r, e in zip(rows, people.entity.tolist(), strict=True)}
    right = sum(len({truth[i] for i in cluster}) == 1 for cluster in found)
    assert right >= 0.95 * len(found)
    assert report["records"] == 600 and report["candidate_pairs"] > 0


# -- profiling ------------------------------------------------------------------------------


def test_profile_counts_completeness_validity_placeholders_shared_values_and_freshness() -> None:
    from datetime import datetime, timezone

    from crmkit.quality import profile

    r = Records(
        {
            "email": ["ada@example.com", "TEST@test.com", None, "not an address", "x@y.org"],
            "phone": ["+442079460958"] * 4 + ["020 7946 0000"],
            "mail": ["a@b.org", "b@c.org", "N/A", "a@b.org", None],
            "updated_at": [
                "2026-01-01T00:00:00+00:00",
                "2024-01-01T00:00:00+00:00",
                None,
                "2025-11-01T00:00:00+00:00",
                "2026-06-01T00:00:00+00:00",
            ],
        }
    )
    p = profile(r, kinds={"mail": "email"}, as_of=datetime(2026, 12, 1, tzinfo=timezone.utc),
                default_region="GB")  # fmt: skip
    email = p["email"]
    assert (email.present, email.completeness) == (4, 0.8)
    assert email.validity == pytest.approx(3 / 4)  # "not an address"
    assert email.suspicious == 1 and email.examples == ("TEST@test.com",)
    phone = p["phone"]
    assert phone.suspicious == 0 and phone.uniqueness == pytest.approx(2 / 5)
    assert p["mail"].kind == "email" and p["mail"].suspicious == 1 and p["mail"].distinct == 3
    assert p.median_age_days == pytest.approx(np.median([334, 1065, 395, 183]))
    assert p.stale_share == pytest.approx(0.5)
    assert "suspicious" in str(p) and p.to_dict()["fields"][0]["column"] == "email"
    crowded = profile(Records({"phone": ["+442079460958"] * 6 + [None]}))
    assert crowded["phone"].suspicious == 6  # one number for six records: not one person's
    with pytest.raises(ValidationError, match="kinds"):
        profile(r, kinds={"mail": "shoe size"})
    with pytest.raises(ValidationError, match="updated_at"):
        profile(Records({"a": ["x"], "updated_at": ["2026-01-01"]}),
                as_of=datetime(2026, 12, 1, tzinfo=timezone.utc))  # fmt: skip


def test_quality_command_and_the_report_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from datetime import datetime, timezone

    from crmkit.cli import main
    from crmkit.datasets import demo_customer_base
    from crmkit.report import customer_base_report

    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"id": "1", "email": "a@b.org", "phone": "n/a"}\n{"id": "2", "email": "a@b.org"}\n',
        encoding="utf-8",
    )
    assert main(["quality", str(path), "--id-column", "id", "--json"]) == 0
    fields = {f["column"]: f for f in json.loads(capsys.readouterr().out)["fields"]}
    assert fields["phone"]["suspicious"] == 1 and fields["email"]["uniqueness"] == 0.5
    base = demo_customer_base(seed=3, retail_customers=30, accounts=3)
    report = customer_base_report(base, as_of=datetime(2026, 7, 1, tzinfo=timezone.utc))
    assert "Data quality of the contacts" in str(report)
    assert report.to_dict()["data_quality"]["records"] == len(base.contacts)


# -- merging --------------------------------------------------------------------------------


def _household() -> tuple[list[object], list[object]]:
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    from crmkit.entities import Consent, Money, Order, OrderLine

    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    old = Contact(first_name="Ada", last_name="Lovelace", email="ada@example.com",
                  tags={"vip"}, created_at=t0, attributes={"source": "shop"})  # fmt: skip
    new = Contact(
        first_name="Ada", last_name="Lovelace", phone="+442079460958", job_title="Analyst",
        email="ada.lovelace@example.org", tags={"newsletter"}, created_at=t0 + timedelta(days=30),
        updated_at=t0 + timedelta(days=60), attributes={"source": "crm", "team": "engines"},
    )  # fmt: skip
    related = [
        Order(contact_id=new.id, ordered_at=t0 + timedelta(days=40), currency="GBP",
              lines=[OrderLine(description="Notes", quantity=1, unit_price=Money(Decimal("9.5"), "GBP"))]),
        Consent(contact_id=new.id, purpose="marketing_email", granted_at=t0,
                withdrawn_at=t0 + timedelta(days=5)),
        Consent(contact_id=old.id, purpose="marketing_email", granted_at=t0 + timedelta(days=10)),
        Consent(contact_id=old.id, purpose="analytics", granted_at=t0),
    ]  # fmt: skip
    return [old, new], related


def test_merge_plan_survivorship_repointing_and_restrictive_consent() -> None:
    from datetime import datetime, timezone

    from crmkit.quality import Survivorship, plan_merge

    (old, new), related = _household()
    at = datetime(2026, 6, 1, tzinfo=timezone.utc)
    plan = plan_merge([new, old], related=related, at=at,
                      rules=Survivorship(fields={"email": "keep_all"}))  # fmt: skip
    assert plan.survivor == old.id and plan.merged == (new.id,)  # the oldest survives
    after = {(k, r["id"]): r for k, r in plan.after}
    survivor = after[("Contact", str(old.id))]
    assert survivor["email"] == "ada@example.com"  # keep_all: the survivor's own
    assert survivor["attributes"]["merged_values"] == {"email": ["ada.lovelace@example.org"]}
    assert survivor["phone"] == "+442079460958" and survivor["job_title"] == "Analyst"
    assert sorted(survivor["tags"]) == ["newsletter", "vip"]
    assert (
        survivor["attributes"]["source"] == "shop" and survivor["attributes"]["team"] == "engines"
    )
    assert after[("Contact", str(new.id))]["attributes"]["merged_into"] == str(old.id)
    order, withdrawn, granted, analytics = related
    assert after[("Order", str(order.id))]["contact_id"] == str(old.id)
    assert after[("Consent", str(withdrawn.id))]["contact_id"] == str(old.id)
    # The survivor's active marketing consent is withdrawn: another record of her withdrew it.
    assert after[("Consent", str(granted.id))]["withdrawn_at"] == at.isoformat()
    assert ("Consent", str(analytics.id)) not in after  # nothing to change
    text = str(plan)
    assert "merge 1 contact(s) into" in text and "email" in text and "1 Order" in text
    by_source = plan_merge(
        [new, old], rules=Survivorship(default="priority", priority=("crm",)), at=at
    )
    first = dict(by_source.after)["Contact"]
    assert first["email"] == "ada.lovelace@example.org"  # the crm record ranks first
    with pytest.raises(ValidationError, match="two or more"):
        plan_merge([old])
    with pytest.raises(ValidationError, match="rules"):
        plan_merge([old, new], rules="newest")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="fields"):
        Survivorship(fields={"id": "most_recent"})


def test_merge_then_unmerge_gives_back_the_stored_records() -> None:
    from datetime import datetime, timezone

    from crmkit.entities import Consent, Order
    from crmkit.entities.serde import to_dict
    from crmkit.errors import ConcurrencyError
    from crmkit.quality import apply_merge, plan_merge, unmerge
    from crmkit.repository import InMemoryRepository, InMemoryStore, InMemoryUnitOfWork, Query

    contacts, related = _household()
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        for entity in [*contacts, *related]:
            uow.repository(type(entity)).add(entity)
        uow.commit()

    def snapshot() -> dict[str, dict[str, object]]:
        out = {}
        for kind in (Contact, Order, Consent):
            for e in InMemoryRepository(kind, store).query(Query(kind)).items:
                d = to_dict(e)
                out[f"{kind.__name__} {d['id']}"] = {
                    k: v for k, v in d.items() if k not in ("version", "updated_at")
                }
        return out

    stored = snapshot()
    plan = plan_merge(contacts, related=related, at=datetime(2026, 6, 1, tzinfo=timezone.utc))
    with InMemoryUnitOfWork(store) as uow:
        event = apply_merge(plan, uow)
        assert list(uow.commit()) == [event] and event["event"] == "contacts_merged"
    merged = snapshot()
    assert merged != stored
    assert merged[f"Contact {plan.merged[0]}"]["attributes"]["merged_into"] == str(plan.survivor)
    assert len(merged) == len(stored)  # nothing deleted
    with InMemoryUnitOfWork(store) as uow:
        assert unmerge(plan, uow)["event"] == "contacts_unmerged"
        uow.commit()
    assert snapshot() == stored
    # A record changed after the plan was made: the merge refuses and stages nothing.
    plan = plan_merge(contacts, related=related)
    with InMemoryUnitOfWork(store) as uow:
        repo = uow.repository(Contact)
        repo.save(repo.get(contacts[0].id).evolve(job_title="Countess"))
        uow.commit()
    before = snapshot()
    with InMemoryUnitOfWork(store) as uow, pytest.raises(ConcurrencyError, match="make a new plan"):
        apply_merge(plan, uow)
    assert snapshot() == before


@settings(max_examples=25, deadline=None)
@given(st.lists(__import__("crmkit.testing.strategies", fromlist=["contacts"]).contacts(),
                min_size=2, max_size=4, unique_by=lambda c: c.id))  # fmt: skip
def test_any_merge_round_trips(group: list[Contact]) -> None:
    """For generated contacts: the plan applies, every record is kept, unmerge restores them all."""
    from hypothesis import assume

    from crmkit.entities.serde import to_dict
    from crmkit.quality import apply_merge, plan_merge, unmerge
    from crmkit.repository import InMemoryRepository, InMemoryStore, InMemoryUnitOfWork, Query

    assume(all(c.erased_at is None and "merged_into" not in c.attributes for c in group))
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        for c in group:
            uow.repository(Contact).add(c)
        uow.commit()

    def contents() -> dict[str, dict[str, object]]:
        items = InMemoryRepository(Contact, store).query(Query(Contact)).items
        return {
            str(c.id): {k: v for k, v in to_dict(c).items() if k not in ("version", "updated_at")}
            for c in items
        }

    stored = contents()
    plan = plan_merge(group)
    with InMemoryUnitOfWork(store) as uow:
        apply_merge(plan, uow)
        uow.commit()
    merged = contents()
    assert set(merged) == set(stored)
    assert sum("merged_into" in r["attributes"] for r in merged.values()) == len(group) - 1
    survivor = merged[str(plan.survivor)]
    assert set(survivor["tags"]) == set().union(*(set(r["tags"]) for r in stored.values()))
    with InMemoryUnitOfWork(store) as uow:
        unmerge(plan, uow)
        uow.commit()
    assert contents() == stored
