"""How long `/touch` parsing takes per line against a realistic book of clients.

    python -m bench.parsing                  # the corpus lines against 1,000 client names
    python -m bench.parsing --clients 5000 --rounds 20

Times `parse_touch` over every line of tests/data/touch_corpus.jsonl, first cold (the date
cache empty), then warm (the same lines again, as a firm's repeated phrasings are), with the
client list passed as a list (the cached index is looked up by it) and as a prebuilt index.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

from bot.parsing import ClientName, ParseProblem, _dateparser, client_index, parse_touch

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "touch_corpus.jsonl"
BASE = date(2026, 11, 24)


def _clients(n: int) -> list[ClientName]:
    """The corpus's clients, then made-up firms up to n."""
    from tests.test_touch_corpus import CLIENTS

    firsts = "Northfield Harbour Crescent Summit Oakmont Riverside Kingsway Lakeshore Redwood Tide"
    seconds = "Capital Holdings Partners Logistics Foods Energy Media Health Retail Mining"
    made_up = [f"{a} {b} {i}" for i in range(n) for a in firsts.split() for b in seconds.split()]
    names = [ClientName(1000 + i, name) for i, name in enumerate(made_up)]
    return [*CLIENTS, *names][:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    lines = [json.loads(x)["text"] for x in CORPUS.read_text("utf-8").splitlines() if x]
    clients = _clients(args.clients)
    index = client_index(clients)
    parse_touch("Acme lunch yesterday", index, BASE)  # dateparser loads its data once

    def per_line(source: object, only: list[str] | None = None) -> float:
        chosen = lines if only is None else only
        start = time.perf_counter()
        for line in chosen:
            parse_touch(line, source, BASE)  # type: ignore[arg-type]
        return (time.perf_counter() - start) / len(chosen) * 1e6

    def unknown_client(line: str) -> bool:
        result = parse_touch(line, index, BASE)
        return isinstance(result, ParseProblem) and result.code == "unknown_client"

    unknown = [x for x in lines if unknown_client(x)]
    known = [x for x in lines if x not in unknown]

    _dateparser.cache_clear()
    cold = per_line(index, known)
    warm = [per_line(index, known) for _ in range(args.rounds)]
    listed = [per_line(clients, known) for _ in range(args.rounds)]
    lost = [per_line(index, unknown) for _ in range(args.rounds)]
    print(f"{len(lines)} lines ({len(unknown)} with no known client), {len(clients)} clients")
    print(f"cold (date cache empty): {cold:.0f} µs per line")
    print(f"warm, prebuilt index:    {statistics.median(warm):.0f} µs per line (median)")
    print(f"warm, list of clients:   {statistics.median(listed):.0f} µs per line (median)")
    print(f"unknown client (with suggestions): {statistics.median(lost):.0f} µs per line")
    result = {
        "bench": "parsing",
        "clients": len(clients),
        "lines": len(lines),
        "cold_us": round(cold),
        "warm_index_us": round(statistics.median(warm)),
        "warm_list_us": round(statistics.median(listed)),
        "unknown_client_us": round(statistics.median(lost)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
