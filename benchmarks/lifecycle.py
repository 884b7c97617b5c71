"""Lifecycle benchmark: crmkit's lead machine vs the transitions and python-statemachine libraries.

All three model the same lead machine (new -> contacted -> qualified ->
converted, disqualify with a reason, reopen; qualifying guarded by "the lead
has an e-mail address or a phone number") and, in one process:

* fire 1,000,000 transitions (guards included), in cycles of
  contact, qualify, disqualify, reopen, qualify, convert;
* create 100,000 entities bound to the machine;
* crmkit only (the peers have no analytics): the funnel, transition matrix
  and time in stage over 10,000,000 transition records.

    python benchmarks/lifecycle.py [--transitions 1000000] [--entities 100000] [--records 10000000]

The peers are installed in ``benchmarks/.venv`` on first run.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _venv import ensure_peers

ensure_peers("transitions", "python-statemachine", modules=("transitions", "statemachine"))

import numpy as np  # noqa: E402
import statemachine  # noqa: E402
import transitions  # noqa: E402

from crmkit.entities import Lead  # noqa: E402
from crmkit.lifecycle import LEAD  # noqa: E402
from crmkit.lifecycle.analytics import TransitionLog, funnel, time_in_stage, transition_matrix  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CYCLE = ("contact", "qualify", "disqualify", "reopen", "qualify", "convert")


# ----------------------------------------------------------------------------- transitions
class TLead:
    def __init__(self, email: str | None) -> None:
        self.email = email
        self.phone = None
        self.disqualified_reason: str | None = None

    def reachable(self, *args: Any, **kwargs: Any) -> bool:
        return self.email is not None or self.phone is not None


T_SPEC = {
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


# ----------------------------------------------------------------------------- python-statemachine
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


def best(repeat: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--transitions", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cycles = args.transitions // len(CYCLE)
    n_fired = cycles * len(CYCLE)

    def crmkit_fire() -> None:
        base = Lead(company="Initech", email="peter@initech.example", created_at=T0)
        fire = LEAD.fire
        for _ in range(cycles):
            lead, _ = fire(base, "contact", at=T0)
            lead, _ = fire(lead, "qualify", at=T0)
            lead, _ = fire(lead, "disqualify", at=T0, reason="no budget")
            lead, _ = fire(lead, "reopen", at=T0)
            lead, _ = fire(lead, "qualify", at=T0)
            lead, _ = fire(lead, "convert", at=T0)

    def transitions_fire() -> None:
        model = TLead("peter@initech.example")
        machine = transitions.Machine(model=model, **T_SPEC)
        for _ in range(cycles):
            machine.set_state("new", model)
            model.contact()
            model.qualify()
            model.disqualify()
            model.reopen()
            model.qualify()
            model.convert()

    def statemachine_fire() -> None:
        for _ in range(cycles):
            sm = SMLead("peter@initech.example")
            sm.contact()
            sm.qualify()
            sm.disqualify()
            sm.reopen()
            sm.qualify()
            sm.convert()

    def statemachine_fire_only() -> float:
        # python-statemachine has no "reset": time the events alone, without building machines.
        machines = [SMLead("peter@initech.example") for _ in range(cycles)]
        t0 = time.perf_counter()
        for sm in machines:
            sm.contact()
            sm.qualify()
            sm.disqualify()
            sm.reopen()
            sm.qualify()
            sm.convert()
        return time.perf_counter() - t0

    def crmkit_create() -> None:
        for _i in range(args.entities):
            Lead(company="Initech", email="peter@initech.example", created_at=T0)

    def transitions_create() -> None:
        machine = transitions.Machine(model=None, **T_SPEC)
        for _ in range(args.entities):
            machine.add_model(TLead("peter@initech.example"))

    def statemachine_create() -> None:
        for _ in range(args.entities):
            SMLead("peter@initech.example")

    print(
        f"Python {sys.version.split()[0]}, transitions {transitions.__version__}, "
        f"python-statemachine {statemachine.__version__}; best of {args.repeat}"
    )
    fire = {
        "crmkit (pure, immutable, records)": best(args.repeat, crmkit_fire),
        "transitions": best(args.repeat, transitions_fire),
        "python-statemachine (incl. building machines)": best(args.repeat, statemachine_fire),
        "python-statemachine (events only)": min(
            statemachine_fire_only() for _ in range(args.repeat)
        ),
    }
    print(f"\nfire {n_fired:,} transitions (guards included)")
    ours = fire["crmkit (pure, immutable, records)"]
    for name, secs in fire.items():
        ratio = "" if name.startswith("crmkit") else f"   crmkit is {secs / ours:5.2f}x as fast"
        print(f"  {name:48s} {n_fired / secs:12,.0f} transitions/s{ratio}")
    fastest_peer = min(v for k, v in fire.items() if not k.startswith("crmkit"))
    print(
        f"  target >= 5x the faster peer: {fastest_peer / ours:.2f}x ({'met' if fastest_peer / ours >= 5 else 'NOT met'})"
    )

    create = {
        "crmkit (validated entities)": best(args.repeat, crmkit_create),
        "transitions (add_model)": best(args.repeat, transitions_create),
        "python-statemachine": best(args.repeat, statemachine_create),
    }
    print(f"\ncreate {args.entities:,} bound entities")
    ours = create["crmkit (validated entities)"]
    for name, secs in create.items():
        ratio = "" if name.startswith("crmkit") else f"   crmkit is {secs / ours:5.2f}x as fast"
        print(f"  {name:48s} {args.entities / secs:12,.0f} entities/s{ratio}")

    rng = np.random.default_rng(1)
    n = args.records
    names = np.array(LEAD.state_names)
    entity = rng.integers(0, n // 5, n)
    frm = names[rng.integers(0, len(names), n)]
    to = names[rng.integers(0, len(names), n)]
    at = np.datetime64("2025-01-01") + rng.integers(0, 10**9, n).astype("timedelta64[s]")
    t0 = time.perf_counter()
    log = TransitionLog.from_columns(
        entity=entity, from_state=frm, to_state=to, at=at, states=LEAD.state_names
    )
    t_load = time.perf_counter() - t0
    t_funnel = best(
        args.repeat, lambda: funnel(log, ["new", "contacted", "qualified", "converted"])
    )
    t_matrix = best(args.repeat, lambda: transition_matrix(log))
    t_stage = best(1, lambda: time_in_stage(log))
    print(f"\nanalytics over {n:,} transition records")
    print(f"  read the columns (state names -> codes)  {t_load:6.2f} s")
    print(
        f"  funnel                                     {t_funnel:6.2f} s  (target < 2 s: {'met' if t_funnel < 2 else 'NOT met'})"
    )
    print(f"  transition matrix                          {t_matrix:6.2f} s")
    print(f"  time in stage (sorts every record)         {t_stage:6.2f} s")


if __name__ == "__main__":
    main()
