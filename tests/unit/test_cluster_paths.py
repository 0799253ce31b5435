"""Path mappings (SUBTITLER_PATH_MAPPINGS): parsing, both directions, and the config's refusal."""

from __future__ import annotations

import pytest

from subtitler.cluster.paths import PathMapper, parse_mappings
from subtitler.config import ConfigError, load_config


def test_mappings_map_both_ways_by_whole_folders() -> None:
    mapper = PathMapper.from_config("/media=/mnt/nas/media, /media/tv=/srv/tv")
    assert mapper.to_local("/media/film/a.mkv") == "/mnt/nas/media/film/a.mkv"
    assert mapper.to_local("/media/tv/s01/e1.mkv") == "/srv/tv/s01/e1.mkv"  # longest wins
    assert mapper.to_local("/media2/x.mkv") == "/media2/x.mkv"
    assert mapper.to_queue("/srv/tv/s01/e1.en.srt") == "/media/tv/s01/e1.en.srt"
    assert mapper.to_queue("/mnt/nas/media/film/a.en.srt") == "/media/film/a.en.srt"
    assert mapper.queue_prefixes() == ("/media", "/media/tv")


def test_no_mappings_is_the_identity() -> None:
    mapper = PathMapper.from_config("")
    assert mapper.identity and mapper.queue_prefixes() is None
    assert mapper.to_local("/a/b") == "/a/b" == mapper.to_queue("/a/b")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("/media:/mnt/media", "expected QUEUE_PATH=LOCAL_PATH"),
        ("/media=/a=/b", "expected QUEUE_PATH=LOCAL_PATH"),
        ("media=/mnt/media", "queue path must be absolute"),
        ("/media=mnt", "local path must be absolute"),
        ("/media=/mnt/../etc", "'..' is not allowed"),
        ("/media=/a,/media=/b", "mapped twice"),
    ],
)
def test_bad_mappings_are_refused_with_the_entry(raw: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_mappings(raw)
    with pytest.raises(ConfigError) as err:
        load_config(path_mappings=raw)
    assert "SUBTITLER_PATH_MAPPINGS" in str(err.value) and says.split()[0] in str(err.value)


def test_a_job_is_read_in_local_form_everywhere_it_names_a_file() -> None:
    mapper = PathMapper.from_config("/media=/mnt/nas/media")
    job = {
        "file_path": "/media/tv/e1.mkv", "job_type": "subtitle_translation",
        "options": {"replaces": "/media/tv/e1.eng.srt", "model": "tiny.en",
                    "subtitle_source": {"kind": "sidecar", "path": "/media/tv/e1.en.srt"}},
    }  # fmt: skip
    local = mapper.local_job(job)
    assert local["file_path"] == "/mnt/nas/media/tv/e1.mkv"
    assert local["options"]["replaces"] == "/mnt/nas/media/tv/e1.eng.srt"
    source = local["options"]["subtitle_source"]
    assert source == {"kind": "sidecar", "path": "/mnt/nas/media/tv/e1.en.srt"}
    assert local["options"]["model"] == "tiny.en" and local["job_type"] == job["job_type"]
    assert job["file_path"] == "/media/tv/e1.mkv"  # the queue's copy is left as it was
    assert mapper.local_written({"/media/tv/e1.eng.srt": "abc"}) == {
        "/mnt/nas/media/tv/e1.eng.srt": "abc"}  # fmt: skip
    asr = {"file_path": "asr://gpu/key", "options": None}
    assert mapper.local_job(asr) == asr
