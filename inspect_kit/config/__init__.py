"""Configuration: settings, units and the matters list, as TOML files in a config folder."""

from inspect_kit.config.load import Config, check_file, load_config

__all__ = ["Config", "check_file", "load_config"]
