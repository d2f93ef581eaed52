"""A progress bar for long calls (``progress=True``): tqdm when it is
installed, else one line on stderr redrawn in place."""

from __future__ import annotations

import sys
import time


def progress_callback():
    """A callable ``(bytes_done, bytes_total, packets_done)`` the engine's
    watcher calls every 100 ms, drawing the bar."""
    try:
        from tqdm import tqdm  # type: ignore
    except ImportError:
        tqdm = None
    state = {"bar": None, "t0": time.monotonic(), "last": 0}

    def report(done: int, total: int, packets: int) -> None:
        if tqdm is not None:
            bar = state["bar"]
            if bar is None:
                bar = state["bar"] = tqdm(total=total or None, unit="B", unit_scale=True, desc="wa1kpcap")
            bar.update(done - state["last"])
            state["last"] = done
            if total and done >= total:
                bar.close()
            return
        secs = max(time.monotonic() - state["t0"], 1e-9)
        pct = f"{100 * done / total:5.1f}%" if total else "     "
        sys.stderr.write(f"\rwa1kpcap {pct} {done / 2**20:9.1f} MiB {packets / secs / 1e3:8.0f} k packets/s")
        if total and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report
