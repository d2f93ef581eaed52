"""Bad input raises an exception that names the path and the reason; the
engine runs off the GIL, stops on Ctrl-C, and a panic never takes the
interpreter down."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path

import pytest

import wa1kpcap
from wa1kpcap import _native


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        wa1kpcap.Wa1kPcap().analyze_file(tmp_path / "nope.pcap")
    assert "nope.pcap" in str(e.value)
    with pytest.raises(FileNotFoundError) as e:
        wa1kpcap.read_flows(tmp_path / "nope.pcap")
    assert "nope.pcap" in str(e.value)
    with pytest.raises(FileNotFoundError):
        wa1kpcap.Wa1kPcap().analyze_directory(tmp_path / "nodir")


@pytest.mark.parametrize("expr", ["tcp and", "port 99999", "host 1.2.3.4.5", "frobnicate", "tcp port"])
def test_bad_filter_is_value_error_at_construction(expr):
    with pytest.raises(ValueError) as e:
        wa1kpcap.Wa1kPcap(bpf_filter=expr)
    assert repr(expr) in str(e.value) or expr in str(e.value)


@pytest.mark.parametrize("kwargs", [{"app_layer_parsing": "some"}, {"udp_timeout": -1}, {"min_packets": -2}])
def test_bad_option_is_value_error(kwargs):
    with pytest.raises(ValueError):
        wa1kpcap.Wa1kPcap(**kwargs)


def test_unknown_option_is_rejected(captures):
    with pytest.raises(TypeError):
        wa1kpcap.read_flows(captures["sample"], udp_timeot=3)
    with pytest.raises(ValueError):
        _native.analyze([str(captures["sample"])], {"udp_timeot": 3.0})


def test_hash_seed_is_hex_digits_or_an_int(captures):
    with pytest.raises(ValueError, match="hash_seed"):
        wa1kpcap.read_flows(captures["traffic"], hash_seed="not hex")
    with pytest.raises(ValueError, match="hash_seed"):
        wa1kpcap.read_flows(captures["traffic"], hash_seed="f" * 33)
    a = wa1kpcap.read_flows(captures["traffic"], hash_seed="5eed")
    b = wa1kpcap.read_flows(captures["traffic"], hash_seed=0x5EED)
    assert a.num_rows == b.num_rows > 0


def test_damaged_capture_keeps_the_flows_before_the_damage(captures, tmp_path):
    whole = Path(captures["traffic"]).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[: len(whole) * 2 // 3 + 7])  # mid-record
    full = wa1kpcap.Wa1kPcap().analyze_file(captures["traffic"])
    with pytest.raises(wa1kpcap.CaptureError) as e:
        wa1kpcap.Wa1kPcap().analyze_file(cut)
    assert e.value.path == str(cut) and str(cut) in str(e.value)
    assert e.value.reason
    assert 0 < len(e.value.flows) <= len(full)
    assert sum(f.packet_count for f in e.value.flows) < sum(f.packet_count for f in full)


def test_not_a_capture_is_capture_error(tmp_path):
    bad = tmp_path / "notes.pcap"
    bad.write_text("hello, this is not a capture\n")
    with pytest.raises(wa1kpcap.CaptureError) as e:
        wa1kpcap.Wa1kPcap().analyze_file(bad)
    assert str(bad) in str(e.value)
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    with pytest.raises(wa1kpcap.CaptureError):
        wa1kpcap.Wa1kPcap().analyze_file(empty)


def test_directory_reports_bad_files_and_keeps_the_rest(captures, tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "a.pcap").write_bytes(Path(captures["sample"]).read_bytes())
    (d / "b.pcap").write_bytes(b"\x00" * 10)
    (d / "c.pcap").write_bytes(Path(captures["traffic"]).read_bytes())
    (d / "d.txt").write_text("not matched by the pattern")
    a = wa1kpcap.Wa1kPcap()
    got = a.analyze_directory(d)
    assert sorted(got) == ["a.pcap", "c.pcap"]
    assert len(got["a.pcap"]) == len(wa1kpcap.Wa1kPcap().analyze_file(captures["sample"]))
    assert len(got["c.pcap"]) == len(wa1kpcap.Wa1kPcap().analyze_file(captures["traffic"]))
    errors = a.stats["errors"]
    assert len(errors) == 1 and "b.pcap" in errors[0]
    assert a.stats["files_processed"] == 3
    assert a.stats["flows_created"] == len(got["a.pcap"]) + len(got["c.pcap"])
    a.reset_stats()
    assert a.stats == {"files_processed": 0, "packets_processed": 0, "packets_filtered": 0, "flows_created": 0,
                       "errors": []}


def test_directory_reads_every_format(captures, tmp_path):
    """ns pcap and pcapng are analysed too (0.2.0 skipped ns pcaps)."""
    import gzip
    import struct

    raw = Path(captures["sample"]).read_bytes()
    magic, = struct.unpack("<I", raw[:4])
    assert magic == 0xA1B2C3D4
    # the same packets as a nanosecond pcap: new magic, fractions ×1000
    out = bytearray(struct.pack("<I", 0xA1B23C4D) + raw[4:24])
    pos = 24
    while pos + 16 <= len(raw):
        sec, usec, incl, orig = struct.unpack("<IIII", raw[pos:pos + 16])
        out += struct.pack("<IIII", sec, usec * 1000, incl, orig) + raw[pos + 16:pos + 16 + incl]
        pos += 16 + incl
    d = tmp_path / "formats"
    d.mkdir()
    (d / "ns.pcap").write_bytes(bytes(out))
    (d / "gz.pcap").write_bytes(gzip.compress(raw))
    got = wa1kpcap.Wa1kPcap().analyze_directory(d)
    want = wa1kpcap.Wa1kPcap().analyze_file(captures["sample"])
    for name in ("ns.pcap", "gz.pcap"):
        assert [f.packet_count for f in got[name]] == [f.packet_count for f in want], name
        assert [round(f.start_time, 6) for f in got[name]] == [round(f.start_time, 6) for f in want]


def _big_capture(tmp_path) -> Path:
    return wa1kpcap.write_sample(tmp_path / "big.pcap", "traffic", sessions=15000)


def test_gil_is_released_while_the_engine_works(tmp_path):
    big = _big_capture(tmp_path)
    ticks = 0
    done = threading.Event()

    def work():
        wa1kpcap.read_flows(big)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert ticks > 50  # the main thread ran all along (≥ ~0.05 s of work)


@pytest.mark.parametrize("compressed", [False, True])
def test_ctrl_c_ends_a_long_call_with_keyboard_interrupt(tmp_path, compressed):
    big = _big_capture(tmp_path)
    if compressed:  # streamed, not mapped: the reader must stop too
        import gzip

        gz = tmp_path / "big.pcap.gz"
        gz.write_bytes(gzip.compress(big.read_bytes(), compresslevel=1))
        big = gz
    full = time.monotonic()
    wa1kpcap.read_flows(big)
    full = time.monotonic() - full
    timer = threading.Timer(min(0.05, full / 4), _thread.interrupt_main)
    returned = False
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        wa1kpcap.Wa1kPcap().analyze_file(big)
        returned = True  # the call ignored the interrupt …
        time.sleep(5)  # … which then lands here
    assert not returned
    assert time.monotonic() - started < full
    # still usable afterwards
    assert len(wa1kpcap.read_flows(big)) > 0


def test_a_panic_becomes_an_exception():
    with pytest.raises(BaseException) as e:
        _native._panic_for_tests()
    assert "internal error" in str(e.value)
    assert wa1kpcap.write_sample  # the interpreter lives on


def test_progress_bar_draws_on_stderr(captures, capfd):
    wa1kpcap.Wa1kPcap(progress=True).analyze_file(captures["traffic"])
    assert "wa1kpcap" in capfd.readouterr().err
    wa1kpcap.Wa1kPcap().analyze_file(captures["traffic"])
    assert capfd.readouterr().err == ""
