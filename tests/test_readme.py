"""The README documents every setting as it is in signlink/config.py."""

from scripts.config_table import table
from signlink.config import PROJECT_ROOT


def test_readme_configuration_table_matches_settings() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    assert table() in readme, "README's configuration table is stale: run `python -m scripts.config_table`"
