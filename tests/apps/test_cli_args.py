"""Flags generated from config dataclasses: every field exposed, typed, converted back."""

import argparse
import dataclasses

import pytest

from robrew.apps.cli_args import add_config_arguments, config_from_arguments
from robrew.rewards.progress.parts import Encoder, Fusion
from robrew.training.progress import ProgressTrainConfig


def parser_for(**defaults):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, ProgressTrainConfig, defaults=defaults)
    return parser


def test_every_field_is_a_flag_and_round_trips():
    parser = parser_for(steps=3000)
    flags = {a.dest for a in parser._actions}
    assert {f.name for f in dataclasses.fields(ProgressTrainConfig)} <= flags
    cfg = config_from_arguments(ProgressTrainConfig, parser.parse_args([]))
    assert cfg == dataclasses.replace(ProgressTrainConfig(), steps=3000)  # defaults, one overridden
    cfg = config_from_arguments(
        ProgressTrainConfig,
        parser.parse_args(["--encoder", "slots", "--proprio-dim", "7", "--fusion", "film", "--lr", "3e-4"]),
    )
    assert cfg.encoder is Encoder.slots and cfg.fusion is Fusion.film and cfg.proprio_dim == 7 and cfg.lr == 3e-4
    cfg = config_from_arguments(ProgressTrainConfig, parser.parse_args(["--clip-pretrained", "none"]))
    assert cfg.clip_pretrained is None


def test_bad_choice_and_type_are_usage_errors(capsys):
    with pytest.raises(SystemExit):
        parser_for().parse_args(["--encoder", "resnet"])
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser_for().parse_args(["--steps", "many"])
    assert "--steps" in capsys.readouterr().err
