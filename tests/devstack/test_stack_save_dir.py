"""``journeys up`` hands the API the journeys folder as JOURNEYS_SAVE_DIR, so a save in the browser
(or a deploy through the API) writes the file that git shows; a setting of one's own wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from devstack.parts import api_part, worker_part


def test_the_api_part_writes_saves_into_the_journeys_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNEYS_SAVE_DIR", raising=False)
    settings = Settings(_env_file=None, journeys_dir=tmp_path / "journeys")

    env = api_part(settings).env

    assert env["JOURNEYS_SAVE_DIR"] == str((tmp_path / "journeys").resolve())
    assert "JOURNEYS_SAVE_DIR" not in worker_part(settings).env  # only the API deploys
    monkeypatch.setenv("JOURNEYS_SAVE_DIR", env["JOURNEYS_SAVE_DIR"])  # what the API process reads
    assert Settings(_env_file=None).journeys_save_dir == (tmp_path / "journeys").resolve()


def test_a_save_folder_set_by_the_user_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_SAVE_DIR", str(tmp_path / "elsewhere"))
    chosen = Settings(_env_file=None, journeys_dir=tmp_path / "journeys")
    monkeypatch.setenv("JOURNEYS_SAVE_DIR", "")
    none = Settings(_env_file=None, journeys_dir=tmp_path / "journeys")

    assert chosen.journeys_save_dir == tmp_path / "elsewhere"
    assert "JOURNEYS_SAVE_DIR" not in api_part(chosen).env  # the API inherits the user's setting
    assert none.journeys_save_dir is None and "JOURNEYS_SAVE_DIR" not in api_part(none).env


def test_unset_by_default_and_the_ui_edits_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEYS_SAVE_DIR", raising=False)
    monkeypatch.delenv("JOURNEYS_UI_EDIT", raising=False)
    assert (Settings(_env_file=None).journeys_save_dir, Settings(_env_file=None).ui_edit) == (None, True)
    monkeypatch.setenv("JOURNEYS_UI_EDIT", "false")
    assert Settings(_env_file=None).ui_edit is False
