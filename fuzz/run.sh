#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 180), one after another,
# and print one line per target: executions, coverage, corpus, crashes.
#
# usage: bash fuzz/run.sh [SECONDS] [TARGET...]
# Dictionaries (fuzz/dict: TLS, QUIC, DNS, HTTP tokens) go to their targets.
# env:   WA1KPCAP_CORPUS  seeds the capture targets with its small captures
#        FUZZ_WORK        corpora and crashes (default /tmp/wa1kpcap-fuzz),
#                         kept outside the repository: seeds come from
#                         third-party captures and are never committed.
# needs: cargo install cargo-fuzz (runs on stable with RUSTC_BOOTSTRAP=1)
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-180}"
shift || true
work="${FUZZ_WORK:-/tmp/wa1kpcap-fuzz}"
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
  cargo fuzz run -O "$t" "$work/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -timeout=10 -artifact_prefix="$work/artifacts/$t/" ${dict:+-dict="$(realpath "$dict")"} > "$log" 2>&1 || true
  stats=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  crashes=$(find "$work/artifacts/$t" -type f | wc -l)
  echo "$t: ${stats:-no stats (see $log)}; crashes: $crashes"
done
