"""Flow-by-flow comparison of two datasets written by `convert` (before and
after a change): every table both hold, rows matched by `flow_id` (and the
packet or message order within a flow), every column compared exactly.

usage: python benches/compare_datasets.py BEFORE_DIR AFTER_DIR [--ignore COL,...]
needs: pyarrow. Exit 0 when equal; otherwise prints each differing column
with its count of differing rows and a few flow ids.
"""

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

# Row identity per table: flow_id, then the order inside the flow.
KEYS = {
    "flows": ["flow_id"],
    "packets": ["flow_id", "ts"],
    "dns": ["flow_id", "ts"],
    "tls_certificates": ["flow_id", "position"],
}


def load(root: Path, table: str) -> pa.Table:
    files = sorted(str(p) for p in (root / table).rglob("*.parquet"))
    t = ds.dataset(files, format="parquet").to_table()
    keys = [k for k in KEYS.get(table, ["flow_id"]) if k in t.column_names]
    return t.sort_by([(k, "ascending") for k in keys]) if keys else t


def main() -> int:
    args = sys.argv[1:]
    ignore = set()
    if "--ignore" in args:
        i = args.index("--ignore")
        ignore = set(args[i + 1].split(","))
        del args[i : i + 2]
    before, after = Path(args[0]), Path(args[1])
    tables = sorted(
        p.name
        for p in before.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (after / p.name).is_dir()
    )
    only = sorted(
        {p.name for p in before.iterdir() if p.is_dir() and p.name[0] != "."}
        ^ {p.name for p in after.iterdir() if p.is_dir() and p.name[0] != "."}
    )
    differ = 0
    if only:
        print(f"tables in one dataset only: {only}")
        differ += 1
    for table in tables:
        a, b = load(before, table), load(after, table)
        if a.num_rows != b.num_rows:
            print(f"{table}: {a.num_rows} rows before, {b.num_rows} after")
            differ += 1
            continue
        if a.schema != b.schema:
            print(f"{table}: schemas differ")
            differ += 1
        cols = [c for c in a.column_names if c not in ignore and c in b.column_names]
        bad = []
        for c in cols:
            x, y = a.column(c), b.column(c)
            if x.equals(y):
                continue
            try:
                neq = pc.invert(pc.fill_null(pc.equal(x, y), False))
                both_null = pc.and_(pc.is_null(x), pc.is_null(y))
                neq = pc.and_(neq, pc.invert(both_null))
                n = pc.sum(neq).as_py() or 0
            except pa.ArrowNotImplementedError:
                # lists and structs: compare row by row
                xs, ys = x.to_pylist(), y.to_pylist()
                n = sum(1 for u, v in zip(xs, ys) if u != v)
            if n:
                bad.append((c, n))
        for c, n in bad:
            print(f"{table}.{c}: {n} of {a.num_rows} rows differ")
        differ += len(bad)
        print(
            f"{table}: {a.num_rows} rows, {len(cols)} columns compared, {len(bad)} differ"
        )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
