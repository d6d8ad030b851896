"""Ready scenarios that ship with Guanghan, to run by name.

    import guanghan as gh
    gh.examples.available()                    # {"chang-e-5": "Chang'e-5 sample return ...", ...}
    result = gh.run(gh.examples.load("chang-e-5-entry"))      # ~1 s: the entry alone
    result.figures()["entry-profile-entry"]

``path(name)`` gives the packaged TOML file (to copy and edit); ``load(name)`` reads and validates
it like :func:`guanghan.load_scenario`. The same names work on the command line
(``guanghan run chang-e-5 --out out/ce5``) and in ``guanghan.load_scenario``.
"""

from __future__ import annotations

from pathlib import Path

from guanghan.mission.scenario_catalogue import packaged, resolve

__all__ = ["available", "path", "load", "QUICK"]

#: a scenario that runs in about a second: the Chang'e-5 returner's entry alone
QUICK = "chang-e-5-entry"


def available() -> dict[str, str]:
    """Packaged scenario name → its one-line description."""
    return packaged()


def path(name: str) -> Path:
    """The packaged TOML file of scenario ``name``; ScenarioError listing the names if unknown."""
    return resolve(name)


def load(name: str):
    """The packaged scenario ``name``, read and validated (a ``Scenario``)."""
    from guanghan.mission.scenario import load_scenario

    return load_scenario(path(name))
