"""The set-up commands in docs/channels/amazon.md work as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import channels.amazon.connector  # noqa: F401 - registers the kind
from channels.amazon.settings import REGION_HOSTS
from helpdesk.channelaccounts.models import ChannelAccount

DOC = Path(__file__).resolve().parents[3] / "docs" / "channels" / "amazon.md"


def _documented_add_command() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    command = next(c for c in block.group(1).replace("\\\n", " ").splitlines() if "channels add amazon" in c)
    words = shlex.split(command)
    return words[words.index("helpdesk") :]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_documented_add_command_creates_the_account(app, session, monkeypatch, backend):
    monkeypatch.setenv("LAMPWORKS_LWA_SECRET", "amzn1.oa2-cs.v1.example")
    monkeypatch.setenv("LAMPWORKS_REFRESH_TOKEN", "Atzr|example")

    result = app.test_cli_runner().invoke(args=_documented_add_command())

    assert result.exit_code == 0, result.output
    account = session.query(ChannelAccount).filter_by(name="amazon-eu").one()
    assert account.kind == "amazon" and account.platform == "amazon"
    assert account.settings["marketplace_ids"] == "A1PA6795UKMFR9,A13V1IB3VIYZZH"
    assert account.settings["region"] == "eu" and account.base_url == REGION_HOSTS["eu"]
    assert account.secret_refs == {"client_secret": "LAMPWORKS_LWA_SECRET", "refresh_token": "LAMPWORKS_REFRESH_TOKEN"}
    assert account.settings["use_restricted_data_token"] is True
