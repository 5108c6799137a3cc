"""The package list, the one setuptools setting pyproject.toml cannot express here.

Everything else is in pyproject.toml. The packages are those under app/ plus
`deskgrid.resources`, which pyproject.toml's `package-dir` maps to the top-level resources/
folder: `[tool.setuptools.packages.find]` only searches folders, and there it would find
`resources`, not `deskgrid.resources`.
"""

from setuptools import find_namespace_packages, setup

setup(packages=[*find_namespace_packages(where="app", include=["deskgrid*"]), "deskgrid.resources"])
