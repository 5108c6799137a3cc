"""Docker's images on this computer, to choose the one to publish: without a daemon to ask,
a sentence that says to start Docker or type the image id."""

from __future__ import annotations

import pytest

from deskgrid.errors import DeskGridError
from deskgrid.market.docker_image import local_images


def test_without_a_daemon_the_list_is_a_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(DeskGridError) as err:
        local_images()
    assert str(err.value) == (
        "Docker does not answer on this computer: start Docker to choose one of its images, "
        "or type the image id (sha256:…)."
    )
