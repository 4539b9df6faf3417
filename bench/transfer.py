"""Import, export and restore at a firm's size, through the real `touchbase` command.

Writes an Outlook-shaped contacts CSV in Windows-1252 (three contacts per company, a last
contact column), then times `import clients --dry-run`, `import clients`, `export` and
`import backup` into a second, empty database, and checks the second export equals the first.
Ends with one JSON line: rows, seconds (the import), peak_rss_mb (the largest of the commands),
and each step's seconds.

    python -m bench.transfer                      # 10,000 rows, SQLite files in /tmp
    python -m bench.transfer --rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_csv(path: Path, rows: int) -> None:
    header = '"First Name","Last Name","Company","Job Title","E-mail Address","Account Owner","Last Contact"'
    lines = [header]
    for i in range(rows):
        company = f"Société {i // 3:06d} Größe"
        lines.append(
            f'"Zoë{i}","Müller","{company}","Directeur financier","p{i}@example.com",'
            f'"Owner {i // 3 % 40}","{1 + i % 28:02d}/10/2026"'
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def run(tmp: Path, db: str, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_APP_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp / db}"
    env["TOUCHBASE_SCHEDULER"] = "false"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        write_csv(tmp / "contacts.csv", args.rows)
        timings = {}
        timings["dry run"], _ = run(tmp, "a.db", "import", "clients", "--dry-run", "contacts.csv")
        timings["import"], out = run(tmp, "a.db", "import", "clients", "contacts.csv")
        print(out.stdout.splitlines()[-2])
        timings["export"], _ = run(tmp, "a.db", "export", "--output", "backup.json")
        timings["restore"], _ = run(tmp, "b.db", "import", "backup", "backup.json")
        _, again = run(tmp, "b.db", "export")
        same = json.loads(again.stdout) == json.loads((tmp / "backup.json").read_text())
        size = (tmp / "backup.json").stat().st_size
        for what, seconds in timings.items():
            print(f"{what}: {seconds:.1f} s")
        print(f"export size: {size / 1e6:.1f} MB; export after restore is the same: {same}")
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB on Linux
        print(
            json.dumps(
                {
                    "rows": args.rows,
                    "seconds": round(timings["import"], 2),
                    "peak_rss_mb": round(peak_kb / 1024, 1),
                    "steps": {k.replace(" ", "_"): round(v, 2) for k, v in timings.items()},
                    "export_mb": round(size / 1e6, 1),
                    "same_after_restore": same,
                }
            )
        )
        if not same:
            raise SystemExit("the export after the restore differs")


if __name__ == "__main__":
    main()
