"""`warroom hub` has an option for every field of the hub's config, defaulting to the field's."""

from __future__ import annotations

from dataclasses import MISSING, fields

from server.config import HubConfig
from warroom.cli import hub


def test_every_hub_config_field_is_an_option_with_its_default() -> None:
    parsed = hub.make_context("hub", []).params  # the options as given none: their defaults
    for field in fields(HubConfig):
        if field.name == "secret":
            continue  # read from the data dir or --secret-file
        assert field.name in parsed, field.name
        if field.default is not MISSING:
            assert parsed[field.name] == field.default, field.name
