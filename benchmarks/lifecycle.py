"""Lifecycle benchmark: crmkit's lead machine vs the transitions and python-statemachine libraries.

    python benchmarks/lifecycle.py [--transitions 1000000] [--entities 100000] [--records 10000000]

All three model the same lead machine (new -> contacted -> qualified ->
converted, disqualify, reopen; qualifying guarded by "the lead has an
e-mail address or a phone number"):

* fire ``--transitions`` transitions (guards included), in cycles of
  contact, qualify, disqualify, reopen, qualify, convert;
* create ``--entities`` entities bound to the machine;
* crmkit only (the peers have no analytics): the funnel, transition matrix
  and time in stage over ``--records`` transition records.

crmkit runs in ``benchmarks/.venv-crmkit`` (the README's install line), the
peers in ``benchmarks/.venv-statemachines``, in a second process; runs
alternate, best of N (see ``_harness.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
import _workloads as w

PEERS = h.Env(
    "statemachines",
    requirements=("transitions", "python-statemachine"),
    packages=("transitions", "python-statemachine"),
)
ENVS = [h.crmkit_env(), PEERS]

T_SPEC: dict[str, Any] = {
    "states": ["new", "contacted", "qualified", "disqualified", "converted"],
    "transitions": [
        {"trigger": "contact", "source": "new", "dest": "contacted"},
        {
            "trigger": "qualify",
            "source": ["new", "contacted"],
            "dest": "qualified",
            "conditions": "reachable",
        },
        {
            "trigger": "disqualify",
            "source": ["new", "contacted", "qualified"],
            "dest": "disqualified",
        },
        {"trigger": "reopen", "source": "disqualified", "dest": "contacted"},
        {"trigger": "convert", "source": "qualified", "dest": "converted"},
    ],
    "initial": "new",
    "auto_transitions": False,
}


class TLead:
    """The lead a ``transitions`` machine drives."""

    def __init__(self, email: str | None) -> None:
        self.email = email
        self.phone = None

    def reachable(self, *args: Any, **kwargs: Any) -> bool:
        return self.email is not None or self.phone is not None


def _statemachine_lead() -> Any:
    import statemachine

    class SMLead(statemachine.StateMachine):
        new = statemachine.State(initial=True)
        contacted = statemachine.State()
        qualified = statemachine.State()
        disqualified = statemachine.State()
        converted = statemachine.State(final=True)

        contact = new.to(contacted)
        qualify = new.to(qualified, cond="reachable") | contacted.to(qualified, cond="reachable")
        disqualify = new.to(disqualified) | contacted.to(disqualified) | qualified.to(disqualified)
        reopen = disqualified.to(contacted)
        convert = qualified.to(converted)

        def __init__(self, email: str | None) -> None:
            self.email = email
            self.phone = None
            super().__init__()

        def reachable(self) -> bool:
            return self.email is not None or self.phone is not None

    return SMLead


# -- firing transitions ---------------------------------------------------------------------


def crmkit_fire(d: dict[str, Any]) -> Any:
    from datetime import datetime, timezone

    from crmkit.entities import Lead
    from crmkit.lifecycle import LEAD

    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    base = Lead(company="Initech", email="peter@initech.example", created_at=t0)
    fire = LEAD.fire
    for _ in range(int(d["cycles"])):
        lead, _ = fire(base, "contact", at=t0)
        lead, _ = fire(lead, "qualify", at=t0)
        lead, _ = fire(lead, "disqualify", at=t0, reason="no budget")
        lead, _ = fire(lead, "reopen", at=t0)
        lead, _ = fire(lead, "qualify", at=t0)
        lead, _ = fire(lead, "convert", at=t0)
    return {"status": lead.status}


def transitions_fire(d: dict[str, Any]) -> Any:
    import transitions

    model = TLead("peter@initech.example")
    machine = transitions.Machine(model=model, **T_SPEC)
    for _ in range(int(d["cycles"])):
        machine.set_state("new", model)
        model.contact()  # type: ignore[attr-defined]
        model.qualify()  # type: ignore[attr-defined]
        model.disqualify()  # type: ignore[attr-defined]
        model.reopen()  # type: ignore[attr-defined]
        model.qualify()  # type: ignore[attr-defined]
        model.convert()  # type: ignore[attr-defined]
    return {"status": model.state}  # type: ignore[attr-defined]


def statemachine_fire(d: dict[str, Any]) -> Any:
    """Events only: python-statemachine has no reset, so the machines are built before the clock."""
    lead = _statemachine_lead()
    machines = [lead("peter@initech.example") for _ in range(int(d["cycles"]))]
    start = time.perf_counter()
    for sm in machines:
        sm.contact()
        sm.qualify()
        sm.disqualify()
        sm.reopen()
        sm.qualify()
        sm.convert()
    return {"_seconds": time.perf_counter() - start}


# -- creating bound entities ----------------------------------------------------------------


def crmkit_create(d: dict[str, Any]) -> Any:
    from datetime import datetime, timezone

    from crmkit.entities import Lead

    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for _ in range(int(d["entities"])):
        Lead(company="Initech", email="peter@initech.example", created_at=t0)
    return {}


def transitions_create(d: dict[str, Any]) -> Any:
    import transitions

    machine = transitions.Machine(model=None, **T_SPEC)
    for _ in range(int(d["entities"])):
        machine.add_model(TLead("peter@initech.example"))
    return {}


def statemachine_create(d: dict[str, Any]) -> Any:
    lead = _statemachine_lead()
    for _ in range(int(d["entities"])):
        lead("peter@initech.example")
    return {}


def crmkit_analytics(d: dict[str, Any]) -> Any:
    return w.lifecycle(d)


FUNCTIONS = {
    n: f
    for n, f in globals().items()
    if n.startswith(("crmkit_", "transitions_", "statemachine_")) and callable(f)
}


def plan(args: argparse.Namespace) -> tuple[dict[str, Any], list[h.Case]]:
    cycles = args.transitions // 6
    datasets = {
        "sizes": lambda: {"cycles": cycles, "entities": args.entities},  # JSON: no numpy needed
        "log": lambda: w.transition_log(args.records),
    }
    peers = ("transitions", "python-statemachine (events only)")
    return datasets, [
        h.Case(
            f"fire {cycles * 6:,} transitions (guards included)",
            "sizes",
            {
                "crmkit": ("crmkit", "crmkit_fire"),
                peers[0]: ("statemachines", "transitions_fire"),
                peers[1]: ("statemachines", "statemachine_fire"),
            },
            repeat=args.repeat,
        ),
        h.Case(
            f"create {args.entities:,} bound entities",
            "sizes",
            {
                "crmkit": ("crmkit", "crmkit_create"),
                peers[0]: ("statemachines", "transitions_create"),
                peers[1]: ("statemachines", "statemachine_create"),
            },
            repeat=args.repeat,
        ),
        h.Case(
            f"funnel + matrix + time in stage, {args.records:,} records",
            "log",
            {"crmkit": ("crmkit", "crmkit_analytics")},
            repeat=max(1, args.repeat // 2),
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    h.main(
        ENVS,
        FUNCTIONS,
        plan,
        title="crmkit vs transitions and python-statemachine",
        parser=parser,
    )
