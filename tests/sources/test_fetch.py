"""Downloads into the cache, against a local HTTP server serving recorded responses."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from local_http import local_server, point_cache

from clusteratlas.sources import fetch
from clusteratlas.sources.classifications import load_code_list
from clusteratlas.sources.fetch import (
    FetchError,
    cbp_url,
    eurostat_url,
    fetch_cbp,
    fetch_classifications,
    fetch_eurostat,
    fetch_url,
    read_manifest,
)
from conftest import GOLDEN

pytestmark = pytest.mark.integration

RESPONSES = GOLDEN / "sources" / "responses"
SUFFIX = {"TSV": ".tsv.gz", "SDMX-CSV": ".sdmx.csv.gz"}


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves files of RESPONSES at their URL path; ``/broken/…`` stops mid-file."""

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        if parts.path.startswith("/broken/"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
            return
        file = (RESPONSES / parts.path.lstrip("/")).resolve()
        fmt = parse_qs(parts.query).get("format")
        if fmt and fmt[0] in SUFFIX:
            file = file.with_name(file.name + SUFFIX[fmt[0]])
        if not file.is_relative_to(RESPONSES.resolve()) or not file.is_file():
            self.send_error(404, "Not Found")
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A local server on 127.0.0.1; yields its base URL and the list of requested paths."""
    with local_server(Handler) as running:
        yield running


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server) -> Path:
    return point_cache(monkeypatch, tmp_path / "cache", server[0])


# ---------------------------------------------------------------------- addresses
@pytest.mark.unit
def test_official_addresses(monkeypatch):
    monkeypatch.delenv("CLUSTERATLAS_FETCH_BASE", raising=False)

    assert eurostat_url("sbs_r_nuts2021") == (
        "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/sbs_r_nuts2021"
        "?format=TSV&compressed=true"
    )
    assert eurostat_url("sbs_r_nuts2021", "sdmx-csv").endswith("?format=SDMX-CSV&compressed=true")
    assert cbp_url(2016) == "https://www2.census.gov/programs-surveys/cbp/datasets/2016/cbp16co.zip"
    assert cbp_url(2022, "state").endswith("/2022/cbp22st.zip")
    assert cbp_url(2009, "msa").endswith("/2009/cbp09msa.zip")


@pytest.mark.unit
def test_base_url_replaces_scheme_and_host_only(monkeypatch):
    monkeypatch.setenv("CLUSTERATLAS_FETCH_BASE", "http://127.0.0.1:9/")

    assert cbp_url(2016) == "http://127.0.0.1:9/programs-surveys/cbp/datasets/2016/cbp16co.zip"
    assert cbp_url(2016, base_url="http://mirror.test") == (
        "http://mirror.test/programs-surveys/cbp/datasets/2016/cbp16co.zip"
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: eurostat_url("sbs r/../x"), "not a Eurostat dataset code"),
        (lambda: eurostat_url("sbs_r_nuts2021", "json"), "unknown Eurostat format"),
        (lambda: cbp_url(2016, "zip"), "unknown CBP level"),
    ],
)
def test_bad_requests_are_refused_before_any_download(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(tmp_path / "c"))
    assert fetch.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("CLUSTERATLAS_CACHE")
    assert fetch.cache_dir() == Path.home() / ".cache" / "clusteratlas"


# ---------------------------------------------------------------------- downloads
def test_download_writes_the_file_and_the_manifest(cache, server):
    path = fetch_eurostat("sbs_r_nuts2021")

    served = (
        RESPONSES / "eurostat/api/dissemination/sdmx/2.1/data/sbs_r_nuts2021.tsv.gz"
    ).read_bytes()
    assert path == cache / "eurostat" / "sbs_r_nuts2021.tsv.gz"
    assert path.read_bytes() == served
    assert gzip.decompress(path.read_bytes()).startswith(b"freq,nace_r2,indic_sbs,geo\\TIME_PERIOD")
    entry = read_manifest(cache)["eurostat/sbs_r_nuts2021.tsv.gz"]
    assert entry["sha256"] == hashlib.sha256(served).hexdigest()
    assert entry["size"] == len(served)
    assert entry["url"] == f"{server[0]}{server[1][0]}"
    assert entry["url"].endswith("?format=TSV&compressed=true")
    assert entry["downloaded"].endswith("Z")
    assert json.loads((cache / "manifest.json").read_text())["version"] == 1
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_sdmx_csv_is_a_separate_cached_file(cache):
    path = fetch_eurostat("sbs_r_nuts2021", fmt="sdmx-csv")

    assert path.name == "sbs_r_nuts2021.sdmx.csv.gz"
    assert gzip.decompress(path.read_bytes()).startswith(b"DATAFLOW,")


def test_second_call_is_served_from_the_cache(cache, server):
    first = fetch_cbp(2016)
    second = fetch_cbp(2016)

    assert first == second == cache / "cbp" / "cbp16co.zip"
    assert len(server[1]) == 1
    with zipfile.ZipFile(first) as z:
        assert z.namelist() == ["cbp16co.txt"]


def test_refresh_downloads_again(cache, server):
    fetch_cbp(2016)
    fetch_cbp(2016, refresh=True)

    assert len(server[1]) == 2


def test_offline_returns_a_cached_file_without_asking(cache, server):
    fetch_cbp(2016)
    path = fetch_cbp(2016, offline=True)

    assert path.is_file()
    assert len(server[1]) == 1


def test_offline_miss_says_it_is_not_cached(cache, server):
    with pytest.raises(FetchError, match="not cached"):
        fetch_cbp(2017, offline=True)
    assert server[1] == []


def test_http_404_is_a_clear_error(cache):
    with pytest.raises(FetchError, match=r"HTTP 404.*no such dataset"):
        fetch_eurostat("no_such_dataset")
    assert not (cache / "eurostat" / "no_such_dataset.tsv.gz").exists()
    assert read_manifest(cache) == {}


def test_interrupted_download_leaves_no_partial_file(cache, server):
    dest = cache / "broken" / "file.bin"

    with pytest.raises(FetchError, match="interrupted"):
        fetch_url(f"{server[0]}/broken/file.bin", dest)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []
    assert read_manifest(cache) == {}


def test_a_stopped_download_leaves_no_partial_file(cache, server):
    dest = cache / "cbp" / "cbp16co.zip"

    def stop(done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_cbp(2016, progress=stop)
    assert list(dest.parent.iterdir()) == []


def test_progress_reports_bytes(cache):
    seen: list[tuple[int, int]] = []
    path = fetch_cbp(2016, progress=lambda d, t: seen.append((d, t)))

    size = path.stat().st_size
    assert seen[0] == (0, size)
    assert seen[-1] == (size, size)


def test_unreachable_server_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERATLAS_CACHE", str(tmp_path))
    # a port on the loopback address that nothing listens on (bound, then closed)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="cannot connect"):
        fetch_cbp(2016, base_url=f"http://127.0.0.1:{port}")


# ---------------------------------------------------------------------- code lists
def test_fetch_classifications_converts_the_official_files(cache):
    files = fetch_classifications()

    assert set(files) == {
        "nuts_2016.csv",
        "nuts_2021.csv",
        "nuts_2024.csv",
        "us_states.csv",
        "us_counties.csv",
    }
    nuts = load_code_list("nuts", 2016)
    assert nuts.name("EL3") == "Αττική"
    assert nuts.frame.set_index("code").loc["EL3", "name_latn"] == "Attiki"
    assert nuts.hierarchy().ancestor("AT111", 0) == "AT"
    assert nuts.hierarchy().parents["UKN10"] == "UKN0"
    counties = load_code_list("us-counties")
    assert counties.name("09110") == "Capitol Planning Region"
    assert counties.hierarchy().ancestor("01003", 0) == "01"
    assert load_code_list("us-states").name("09") == "Connecticut"
    manifest = read_manifest(cache)
    assert "classifications/raw/NUTS_AT_2021.csv" in manifest
    assert "classifications/raw/state.txt" in manifest


def test_fetch_classifications_offline_uses_what_is_cached(cache, server):
    fetch_classifications()
    asked = len(server[1])

    files = fetch_classifications(offline=True)

    assert len(files) == 5
    assert len(server[1]) == asked


def test_fetch_classifications_from_a_folder(cache, shared_data):
    files = fetch_classifications(source=shared_data / "classifications")

    assert "naics_2017_2022.csv" in files
    assert "nace_rev2.csv" in files
    assert load_code_list("nace", "2.1").name("62.10") != "62.10"
    entry = read_manifest(cache)["classifications/nace_rev2.csv"]
    assert entry["url"].startswith("file://")


def test_fetch_classifications_from_an_empty_folder_says_so(cache, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FetchError, match="none of the code-list files"):
        fetch_classifications(source=tmp_path / "empty")
