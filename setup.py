"""The build step pyproject.toml cannot declare: the host adapters go into the wheel as package data.

``hosts/`` (Nuke, Resolve, Blender and the shared worker client) is copied into ``matchcut/_adapters/`` of the
wheel, so `matchcut hosts install ...` works from an installed wheel with no checkout; matchcut.adapters finds
them there (else, in an editable install, in hosts/ beside core/). Only the files an adapter ships (SUFFIXES,
as matchcut.adapters.SUFFIXES) and no caches. Everything else is configured in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: As matchcut.adapters.SUFFIXES (a test checks they agree): code, the Lua stubs, Blender's manifest.
SUFFIXES = (".py", ".lua", ".toml")
#: Where the adapters go inside the package (matchcut.adapters.PACKAGED).
TARGET = ("matchcut", "_adapters")


def adapter_files(root):
    """Relative path -> file of every adapter file under ``root`` (hosts/)."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts}


class build_py_with_adapters(build_py):
    """build_py, then hosts/ copied into the build's matchcut/_adapters (not for an editable install, which
    reads hosts/ where it is)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib).joinpath(*TARGET)
        for rel, source in adapter_files(HERE / "hosts").items():
            out = target.joinpath(*rel.split("/"))
            out.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(str(source), str(out), preserve_mode=False)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        target = Path(self.build_lib).joinpath(*TARGET)
        return outputs + [str(target.joinpath(*rel.split("/"))) for rel in adapter_files(HERE / "hosts")]


if __name__ == "__main__":
    setup(cmdclass={"build_py": build_py_with_adapters})
