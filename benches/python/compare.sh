#!/usr/bin/env bash
# Python-level side by side on one input: our `wa1kpcap` Python package
# (Wa1kPcap().analyze_file + to_dataframe, read_flows -> pyarrow, per-flow
# attribute iteration), the `wa1kpcap convert` CLI, the reference wa1kpcap
# 0.2.0 from PyPI and NFStream 6.6. Each measurement runs in its own process
# under /usr/bin/time; one line each: name, wall_s, peak_rss_mb, and the last
# line the command printed (flow count, ns per flow).
#
# usage: benches/python/compare.sh CAPTURE [OURS_PYTHON] [PEERS_PYTHON]
#   OURS_PYTHON   interpreter of a venv with our package installed
#                 (default $HOME/.cache/wa1kpcap-venv/bin/python)
#   PEERS_PYTHON  interpreter of a venv with the peers (default /tmp/peers/bin/python):
#                 python3 -m venv /tmp/peers &&
#                 /tmp/peers/bin/pip install wa1kpcap==0.2.0 nfstream pandas
#                 (separate venv: the reference has the same import name as ours)
#   env WA1KPCAP_BIN  CLI binary (default $HOME/.cache/wa1kpcap-target/release/wa1kpcap)
#   needs /usr/bin/time (apt-get install time). A failing measurement prints
#   "NAME: failed" and the last 3 lines of its stderr; the script goes on.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CAPTURE [OURS_PYTHON] [PEERS_PYTHON]" >&2; exit 2; }
IN="$1"
OURS="${2:-$HOME/.cache/wa1kpcap-venv/bin/python}"
PEERS="${3:-/tmp/peers/bin/python}"
BIN="${WA1KPCAP_BIN:-$HOME/.cache/wa1kpcap-target/release/wa1kpcap}"
[ -r "$IN" ] || { echo "cannot read capture: $IN" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "need /usr/bin/time: apt-get install -y time" >&2; exit 2; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

measure() { # name, command...
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" > "$OUT/stdout" 2> "$OUT/stderr" \
    || { echo "$name: failed"; tail -3 "$OUT/stderr"; return 0; }
  local secs kb
  read -r secs kb < "$OUT/time"
  echo "$name wall_s=$secs peak_rss_mb=$((kb / 1024)) $(tail -1 "$OUT/stdout")"
}

echo "# capture: $IN ($(du -h "$IN" | cut -f1))"

# ---- ours (Python package) ----------------------------------------------------------------
if [ -x "$OURS" ]; then
  measure "ours analyze_file+to_dataframe" "$OURS" -c "
import sys; from wa1kpcap import Wa1kPcap, to_dataframe
df = to_dataframe(Wa1kPcap().analyze_file(sys.argv[1]))
print(f'flows={len(df)}')" "$IN"

  measure "ours read_flows->pyarrow" "$OURS" -c "
import sys, wa1kpcap
t = wa1kpcap.read_flows(sys.argv[1])  # a pyarrow.Table
print(f'flows={t.num_rows}')" "$IN"

  measure "ours analyze_file+iterate pkt_mean" "$OURS" -c "
import sys, time; from wa1kpcap import Wa1kPcap
flows = Wa1kPcap().analyze_file(sys.argv[1])
n = max(len(flows), 1)
def run():
    t0 = time.perf_counter()
    s = 0.0
    for f in flows:
        s += f.pkt_mean
    return (time.perf_counter() - t0) * 1e9 / n, s
cold, _ = run()
warm, _ = run()
print(f'flows={len(flows)} ns_per_flow={cold:.1f} ns_per_flow_warm={warm:.1f}')" "$IN"
else
  echo "ours: skipped (no interpreter at $OURS)"
fi

# ---- the CLI ------------------------------------------------------------------------------
if [ -x "$BIN" ]; then
  measure "wa1kpcap-rs convert --threads 2" "$BIN" convert -q --json --threads 2 -o "$OUT/ds" "$IN"
else
  echo "wa1kpcap-rs convert: skipped (no binary at $BIN; set WA1KPCAP_BIN)"
fi

# ---- peers --------------------------------------------------------------------------------
if [ -x "$PEERS" ]; then
  measure "wa1kpcap-0.2.0 analyze_file" "$PEERS" -c "
import sys; from wa1kpcap import Wa1kPcap
flows = Wa1kPcap().analyze_file(sys.argv[1])
print(f'flows={len(flows)}')" "$IN"

  # its to_dataframe crashes on flows carrying a TLS certificate: report, don't fail
  measure "wa1kpcap-0.2.0 analyze_file+to_dataframe" "$PEERS" -c "
import sys; from wa1kpcap import Wa1kPcap, to_dataframe
flows = Wa1kPcap().analyze_file(sys.argv[1])
try:
    r = f'to_dataframe_rows={len(to_dataframe(flows))}'
except Exception as e:
    r = f'to_dataframe=crashed: {type(e).__name__}'
print(f'flows={len(flows)} {r}')" "$IN"

  measure "nfstream-6.6 to_pandas" "$PEERS" -c "
import sys; from nfstream import NFStreamer
df = NFStreamer(source=sys.argv[1], statistical_analysis=True, splt_analysis=20).to_pandas()
print(f'flows={len(df)}')" "$IN"
else
  echo "peers: skipped (no interpreter at $PEERS)"
fi
