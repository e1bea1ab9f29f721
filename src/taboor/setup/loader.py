"""Reading company files from disk (YAML) and the bundled demo company."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from taboor.setup.reader import Problem
from taboor.setup.schema import CompanyFileError, CompanySpec, parse_company_file
from taboor.text_safety import nul_path

DEMO_RESOURCE = "demo_company.yaml"


def parse_company_yaml(text: str) -> CompanySpec:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        raise CompanyFileError([Problem(where, f"not valid YAML: {error}")]) from error
    nul_at = nul_path(document)
    if nul_at is not None:
        raise CompanyFileError([Problem(nul_at, "must not contain the NUL character (U+0000)")])
    return parse_company_file(document)


def load_company_file(path: Path) -> CompanySpec:
    return parse_company_yaml(path.read_text(encoding="utf-8"))


def demo_company_yaml() -> str:
    return resources.files("taboor.setup").joinpath(DEMO_RESOURCE).read_text(encoding="utf-8")
