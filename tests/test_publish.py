"""Publishing is atomic: readers see a whole refresh or the previous one, never a half-written one."""

import pytest

from pipeline.reporting.publish import list_refreshes, publish


def _index(ids):
    return "\n".join(ids)


def test_publish_writes_refresh_points_latest_and_lists_newest_first(tmp_path):
    publish(tmp_path, "20260101T000000Z-aaaa", {"overview.html": "one"}, _index)
    publish(tmp_path, "20260102T000000Z-bbbb", {"overview.html": "two"}, _index)
    assert (tmp_path / "latest" / "overview.html").read_text() == "two"
    assert (tmp_path / "refreshes" / "20260101T000000Z-aaaa" / "overview.html").read_text() == "one"
    assert list_refreshes(tmp_path) == ["20260102T000000Z-bbbb", "20260101T000000Z-aaaa"]
    assert (tmp_path / "index.html").read_text().splitlines()[0] == "20260102T000000Z-bbbb"


def test_failed_refresh_leaves_previous_report_and_no_partial_folder(tmp_path):
    publish(tmp_path, "20260101T000000Z-aaaa", {"overview.html": "one"}, _index)

    class Boom(dict):
        def items(self):
            yield "overview.html", "partial"
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish(tmp_path, "20260102T000000Z-bbbb", Boom(), _index)
    assert (tmp_path / "latest" / "overview.html").read_text() == "one"
    assert list_refreshes(tmp_path) == ["20260101T000000Z-aaaa"]
    assert not [p for p in (tmp_path / "refreshes").iterdir() if p.name.startswith(".")]


def test_a_refresh_id_is_never_overwritten(tmp_path):
    publish(tmp_path, "20260101T000000Z-aaaa", {"overview.html": "one"}, _index)
    with pytest.raises(FileExistsError):
        publish(tmp_path, "20260101T000000Z-aaaa", {"overview.html": "two"}, _index)
    assert (tmp_path / "latest" / "overview.html").read_text() == "one"


def test_an_unusable_reports_folder_fails_with_a_message_naming_it(tmp_path):
    from pipeline.reporting.publish import PublishError
    from pipeline.reporting.render import stage

    reports = tmp_path / "site"
    reports.write_text("a file where the reports folder should be")
    with pytest.raises(PublishError, match="cannot write the reports of run r1 under .*site: Not a directory"):
        stage(reports, "r1", {"comparative.html": "x"})
