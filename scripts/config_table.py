"""Print the README's configuration table from signlink.config (tests check the README matches)."""

from signlink.config import describe


def table() -> str:
    lines = ["| variable | default | what it sets |", "| --- | --- | --- |"]
    lines += [
        f"| `{name}` | {f'`{default}`' if default else '(empty)'} | {doc} |"
        for name, default, doc in describe()
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
