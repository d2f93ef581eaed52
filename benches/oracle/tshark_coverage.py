"""Share of the protocol fields TShark shows that a converted dataset carries.

Usage: python tshark_coverage.py DATASET EXPECTED_TSHARK_DIR [--misses]

For every (capture, 5-tuple, field) where TShark's export shows a value
(SNI, JA3, JA3S, DNS query name, HTTP host, user agent), the field counts as
matched when a flow of that capture and tuple carries one of TShark's values
for it. `--misses` lists the unmatched ones by capture, to classify them.
"""

import collections
import csv
import sys
from pathlib import Path

import pyarrow.dataset as ds

FIELDS = {
    # name: (TShark column, flows column)
    "sni": ("tls.handshake.extensions_server_name", "sni"),
    "ja3": ("tls.handshake.ja3", "ja3_hash"),
    "ja3s": ("tls.handshake.ja3s", "ja3s_hash"),
    "dns_query": ("dns.qry.name", "dns_queries"),
    "http_host": ("http.host", "http_host"),
    "user_agent": ("http.user_agent", "http_user_agent"),
}


def last(cell):
    return cell.split(",")[-1] if cell else ""


def tuples_of(row):
    """The row's 5-tuple, innermost first: with IPv4 and IPv6 both present
    (6in4, Teredo, AYIYA) either may be the inner one, so both are tried."""
    sp = last(row["tcp.srcport"]) or last(row["udp.srcport"])
    dp = last(row["tcp.dstport"]) or last(row["udp.dstport"])
    if not (sp and dp):
        return []
    out = []
    for fam in ("ipv6", "ip"):
        src, dst = last(row[fam + ".src"]), last(row[fam + ".dst"])
        if src and dst:
            a, b = (src, int(sp)), (dst, int(dp))
            out.append((min(a, b), max(a, b)))
    return out


def values(cell, col):
    if not cell:
        return set()
    if col == "dns.qry.name":
        return {v.lower().rstrip(".") for v in cell.split(",") if v}
    if col == "http.user_agent":
        return {cell}
    return {cell.split(",")[0]} if col != "tls.handshake.ja3" else set(cell.split(","))


def main():
    dataset, expected = Path(sys.argv[1]), Path(sys.argv[2])
    misses = "--misses" in sys.argv
    cols = ["capture", "src_ip", "dst_ip", "src_port", "dst_port"] + [
        c for _, c in FIELDS.values()
    ]
    table = ds.dataset(dataset / "flows", format="parquet").to_table(columns=cols)
    ours = collections.defaultdict(lambda: collections.defaultdict(set))
    for r in table.to_pylist():
        a, b = (r["src_ip"], r["src_port"]), (r["dst_ip"], r["dst_port"])
        key = (r["capture"], (min(a, b), max(a, b)))
        for name, (_, col) in FIELDS.items():
            v = r[col]
            if v is None:
                continue
            if isinstance(v, list):
                ours[key][name].update(x.lower().rstrip(".") for x in v)
            elif name == "dns_query":
                ours[key][name].add(v.lower().rstrip("."))
            else:
                ours[key][name].add(v)
    theirs = collections.defaultdict(lambda: collections.defaultdict(set))
    for tsv in sorted(expected.rglob("*.tsv")):
        capture = str(tsv.relative_to(expected))[: -len(".tsv")]
        with open(tsv, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                ts = tuples_of(row)
                if not ts:
                    continue
                # The tuple a flow of ours has, else the first.
                t = next((t for t in ts if (capture, t) in ours), ts[0])
                for name, (col, _) in FIELDS.items():
                    theirs[(capture, t)][name].update(values(row.get(col, ""), col))
    total = collections.Counter()
    matched = collections.Counter()
    missed = collections.defaultdict(list)
    for key, fields in theirs.items():
        for name, vals in fields.items():
            if not vals:
                continue
            total[name] += 1
            if vals & ours.get(key, {}).get(name, set()):
                matched[name] += 1
            else:
                missed[key[0]].append((name, key[1], sorted(vals)[:2]))
    all_t, all_m = sum(total.values()), sum(matched.values())
    for name in FIELDS:
        t, m = total[name], matched[name]
        print(f"{name:11} {m:6}/{t:<6} {100 * m / max(t, 1):6.2f} %")
    print(f"{'all':11} {all_m:6}/{all_t:<6} {100 * all_m / max(all_t, 1):6.2f} %")
    if misses:
        for capture, ms in sorted(missed.items(), key=lambda x: -len(x[1])):
            print(f"{len(ms):5} {capture}")
            for m in ms[:4]:
                print(f"        {m}")


if __name__ == "__main__":
    main()
