#!/usr/bin/env bash
# Side by side on one input: wa1kpcap (this project, `convert`, Parquet out),
# the reference wa1kpcap 0.2.0 (`Wa1kPcap().analyze_file`; its `to_dataframe`
# crashes on flows carrying a TLS certificate, so it is timed without it) and
# NFStream 6.6 (`NFStreamer(statistical_analysis=True, splt_analysis=20)
# .to_pandas()`). Prints wall seconds, packets/s and peak RSS of each.
#
# usage: benches/peers/compare.sh CAPTURE [THREADS]
#   needs: a release build (cargo build --release --no-default-features) and a
#   virtualenv with the peers: python3 -m venv /tmp/peers &&
#   /tmp/peers/bin/pip install wa1kpcap==0.2.0 nfstream pandas
set -euo pipefail
IN="$1"; THREADS="${2:-2}"
PY="${PEERS_PYTHON:-/tmp/peers/bin/python}"
BIN="${WA1KPCAP_BIN:-${CARGO_TARGET_DIR:-target}/release/wa1kpcap}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
measure() { # name, command...
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" > "$OUT/stdout" 2> "$OUT/stderr" || { echo "$name: failed"; tail -3 "$OUT/stderr"; return; }
  read -r secs kb < "$OUT/time"
  echo "$name wall_s=$secs peak_rss_mb=$((kb / 1024)) $(tail -1 "$OUT/stdout")"
}
measure "wa1kpcap-rs convert --threads $THREADS" "$BIN" convert -q --json --threads "$THREADS" -o "$OUT/ds" "$IN"
measure "wa1kpcap-0.2.0 analyze_file" "$PY" -c "
import sys; from wa1kpcap import Wa1kPcap
flows = Wa1kPcap().analyze_file(sys.argv[1])
print(f'flows={len(flows)}')" "$IN"
measure "nfstream-6.6 to_pandas" "$PY" -c "
import sys; from nfstream import NFStreamer
df = NFStreamer(source=sys.argv[1], statistical_analysis=True, splt_analysis=20).to_pandas()
print(f'flows={len(df)}')" "$IN"
