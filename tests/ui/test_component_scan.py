"""ui.component_scan: Streamlit's start-up scan for custom components finds the same packages, sooner."""

import importlib.metadata

import pytest

from ui import component_scan

manifest_scanner = pytest.importorskip("streamlit.components.v2.manifest_scanner")


class FakeDist:
    """A distribution whose METADATA is given as text (read_text as importlib.metadata's)."""

    def __init__(self, metadata: str | None):
        self._metadata = metadata

    def read_text(self, name):
        return self._metadata if name == "METADATA" else None

    @property
    def metadata(self):
        import email

        return email.message_from_string(self._metadata or "")

    @property
    def name(self):
        return self.metadata["Name"]


@pytest.fixture
def prefiltered(monkeypatch):
    original = manifest_scanner._is_likely_streamlit_component_package
    if getattr(original, "_prefiltered", False):  # app.py, imported by another test, has installed it
        original = original.__wrapped__
    monkeypatch.setattr(manifest_scanner, "_is_likely_streamlit_component_package", original)
    assert component_scan.install()
    assert component_scan.install()  # a second call wraps nothing twice
    check = manifest_scanner._is_likely_streamlit_component_package
    assert check is not original and check.__wrapped__ is original
    return original, check


def test_every_installed_package_gets_the_same_answer(prefiltered):
    original, check = prefiltered
    dists = list(importlib.metadata.distributions())
    assert len(dists) > 10
    assert [check(d) for d in dists] == [original(d) for d in dists]
    assert any(check(d) for d in dists)  # streamlit itself


@pytest.mark.parametrize("header", [
    "Name: acme-widgets\nSummary: A Streamlit component for maps",
    "Name: acme-widgets\nSummary: maps\nRequires-Dist: streamlit>=1.40",
    "Name: streamlit-acme\nSummary: maps",
])
def test_a_package_that_names_streamlit_in_its_header_reaches_streamlits_own_check(prefiltered, header):
    original, check = prefiltered
    dist = FakeDist(f"Metadata-Version: 2.1\n{header}\n\nLong description.\n")
    assert check(dist) is original(dist) is True


def test_streamlit_only_in_the_long_description_is_no_component(prefiltered):
    original, check = prefiltered
    dist = FakeDist("Metadata-Version: 2.1\nName: plots\nSummary: charts\n\nWorks well with streamlit.\n")
    assert check(dist) is original(dist) is False


def test_only_a_header_without_streamlit_skips_streamlits_check(monkeypatch):
    asked = []

    def spy(dist):
        asked.append(dist)
        return True

    monkeypatch.setattr(manifest_scanner, "_is_likely_streamlit_component_package", spy)
    assert component_scan.install()
    check = manifest_scanner._is_likely_streamlit_component_package
    unreadable, plain = FakeDist(None), FakeDist("Metadata-Version: 2.1\nName: plots\nSummary: charts\n\n")
    assert check(unreadable) is True and asked == [unreadable]  # no METADATA: Streamlit's check decides
    assert check(plain) is False and asked == [unreadable]
