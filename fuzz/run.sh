#!/usr/bin/env bash
# Run fuzz targets one after another, each until its coverage stops
# growing (no new coverage for PLATEAU seconds) or for SECONDS at most,
# with a per-input time limit: a slow input is a finding, like a crash.
# Prints one line per target: run time, executions, edges and features
# covered, seconds since the last new coverage, crashes/timeouts/slow units.
#
# usage: bash fuzz/run.sh [SECONDS] [TARGET...]
# Dictionaries (fuzz/dict: TLS, QUIC, DNS, HTTP tokens) go to their targets.
# env:   WA1KPCAP_CORPUS  seeds the capture targets with its small captures
#        FUZZ_WORK        corpora and findings (default /tmp/wa1kpcap-fuzz),
#                         kept outside the repository: seeds come from
#                         third-party captures and are never committed;
#                         a finding becomes a regression test made by code
#        FUZZ_PLATEAU     seconds without new coverage that end a target's
#                         run (default 1800, the plateau of issue 26)
#        FUZZ_TIMEOUT     per-input limit in seconds (default 1); inputs
#                         over half of it are reported as slow units
# needs: cargo install cargo-fuzz (runs on stable with RUSTC_BOOTSTRAP=1)
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-180}"
shift || true
work="${FUZZ_WORK:-/tmp/wa1kpcap-fuzz}"
plateau="${FUZZ_PLATEAU:-1800}"
timeout_s="${FUZZ_TIMEOUT:-1}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O

seed() {
  local t="$1" dir="$work/corpus/$1"
  mkdir -p "$dir"
  case "$t" in
    read_capture|pipeline)
      if [ -n "${WA1KPCAP_CORPUS:-}" ] && [ -z "$(ls -A "$dir")" ]; then
        find "$WA1KPCAP_CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -size -48k \
          | head -400 | while read -r f; do cp "$f" "$dir/$(printf '%s' "$f" | md5sum | cut -c1-16)"; done \
          || true  # (head closes the pipe early)
      fi ;;
    filter)
      local i=0
      for e in "tcp port 443" "udp and not port 53" "host 10.0.0.1 and (tcp[13] & 2 != 0)" \
               "net 192.168.0.0/16 or ip6" "vlan 100 and tcp" "portrange 1000-2000" "ip proto 47" \
               "ether host 00:11:22:33:44:55" "greater 100 and less 1500" "icmp[0] == 8" \
               "ip[6:2] & 0x1fff != 0" "mpls and udp" "not (port 22 or port 23)" "len >= 64"; do
        i=$((i + 1)); printf '%s' "$e" > "$dir/seed$i"
      done ;;
  esac
}

# Seconds since the log's last line that found new coverage (each line is
# prefixed with the time it was printed).
since_new() {
  local log="$1" now last
  now=$(date +%s)
  last=$(grep -E '^[0-9]+ #[0-9]+[[:space:]]+(NEW|INITED)' "$log" | tail -1 | cut -d' ' -f1 || true)
  echo $((now - ${last:-$now}))
}

for t in "${targets[@]}"; do
  seed "$t"
  mkdir -p "$work/artifacts/$t"
  log="$work/$t.log"
  dict=""
  case "$t" in
    tls_hello) dict=dict/tls.dict ;;
    quic_initial) dict=dict/quic.dict ;;
    dns) dict=dict/dns.dict ;;
    http_head) dict=dict/http.dict ;;
    pipeline) cat dict/*.dict > "$work/all.dict"; dict="$work/all.dict" ;;
  esac
  start=$(date +%s)
  # -timeout: an input over the limit is saved as a finding; -report_slow_units
  # saves those over half of it (slow-unit-*).
  (cargo fuzz run -O "$t" "$work/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -timeout="$timeout_s" -report_slow_units="$(( (timeout_s + 1) / 2 ))" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$t/" ${dict:+-dict="$(realpath "$dict")"} 2>&1 \
    | perl -ne 'BEGIN { $| = 1 } print time(), " ", $_' > "$log") &
  pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    sleep 20
    if [ "$(since_new "$log")" -ge "$plateau" ]; then
      # (cargo fuzz starts the target by a path relative to fuzz/)
      pkill -INT -f "^target/[^ ]*/release/$t( |\$)" 2> /dev/null || true
    fi
  done
  wait "$pid" || true
  ran=$(( $(date +%s) - start ))
  stats=$(grep -E '#[0-9]+[[:space:]]+(pulse|NEW|REDUCE|DONE|INITED)' "$log" | tail -1 | cut -d' ' -f2- || true)
  findings=$(find "$work/artifacts/$t" -type f | wc -l)
  echo "$t: ${ran} s; ${stats:-no stats (see $log)}; last new coverage $(since_new "$log") s before the end; findings: $findings"
done
