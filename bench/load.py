"""Load test: N simulated users (gradio_client, loopback only) ask questions for a fixed time
against a running `iurc serve`. Every request is counted as answered, refused (queue full) or
lost; latency p50/p95 and the server's memory over time are reported.

usage: .venv/bin/python -m bench.load [--users 50] [--seconds 120] [--store .iurc/store] [--api]
       (starts its own `iurc serve` on a free loopback port and stops it afterwards)
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from pathlib import Path

from bench.ask_latency import QUESTIONS
from eval.runner import percentile

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _session(stop_at: float, max_requests: int, rng: random.Random, out: list, lock: threading.Lock,
             ask) -> None:
    """One simulated user: random questions until the time or the request budget is spent, each
    answer's outcome (`ask(question)`: answered, lost, refused or an error) and latency recorded,
    then a random think time of 0-0.5 s."""
    sent = 0
    while time.time() < stop_at and sent < max_requests:
        question = rng.choice(QUESTIONS)
        started = time.perf_counter()
        sent += 1
        outcome = ask(question)
        with lock:
            out.append((outcome, (time.perf_counter() - started) * 1000))
        time.sleep(rng.random() * 0.5)  # think time


def _answered(result: dict, question: str) -> str:
    return "answered" if result.get("question") == question and result.get("answer") else "lost"


def user(url: str, stop_at: float, seed: int, max_requests: int, out: list, lock: threading.Lock) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)

    def ask(question: str) -> str:
        try:
            return _answered(client.predict(question, api_name="/ask"), question)
        except Exception as exc:  # noqa: BLE001 - every failure is classified below
            text = str(exc).lower()
            return "refused" if "queue" in text and "full" in text else f"error: {type(exc).__name__}: {exc}"[:200]

    _session(stop_at, max_requests, random.Random(seed), out, lock, ask)


def _http(ask_once):
    """An `ask` that classifies HTTP failures: 503 is a refusal, anything else an error."""
    import urllib.error

    def ask(question: str) -> str:
        try:
            return ask_once(question)
        except urllib.error.HTTPError as exc:
            return "refused" if exc.code == 503 else f"error: HTTP {exc.code}"
        except Exception as exc:  # noqa: BLE001 - every failure is classified below
            return f"error: {type(exc).__name__}: {exc}"[:200]
    return ask


def queue_user(url: str, stop_at: float, seed: int, max_requests: int, out: list, lock: threading.Lock) -> None:
    """The same user through the chat's Gradio queue, with plain HTTP instead of gradio_client
    (POST /gradio_api/call/ask, then its event stream): the queue and the server are measured,
    not the client library, whose threads compete with the server for the same two cores."""
    import urllib.request

    rng = random.Random(seed)
    # One session per user, as one open chat page is (the server keeps its state between questions).
    session = f"load-{seed}-{rng.getrandbits(32):08x}"

    def ask_once(question: str) -> str:
        join = urllib.request.Request(url + "gradio_api/call/ask",
                                      data=json.dumps({"data": [question], "session_hash": session}).encode(),
                                      headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(join, timeout=60) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(url + f"gradio_api/call/ask/{event_id}", timeout=60) as stream:
            event = ""
            for raw in stream:
                line = raw.decode("utf-8").strip()
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = json.loads(line.split(":", 1)[1])
                    if event == "complete":
                        return _answered(data[0] if isinstance(data, list) and data else {}, question)
                    text = json.dumps(data).lower()
                    return "refused" if "queue" in text and "full" in text else f"error: {text}"[:200]
        return "lost"

    _session(stop_at, max_requests, rng, out, lock, _http(ask_once))


def api_user(url: str, stop_at: float, seed: int, max_requests: int, out: list, lock: threading.Lock) -> None:
    """The same user through the plain JSON API (POST /api/ask) instead of the Gradio queue."""
    import urllib.request

    def ask_once(question: str) -> str:
        request = urllib.request.Request(url + "api/ask", data=json.dumps({"question": question}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return _answered(json.loads(response.read()), question)

    _session(stop_at, max_requests, random.Random(seed), out, lock, _http(ask_once))


def main() -> None:
    from tests.ui_server import Server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--max-requests-per-user", type=int, default=1000)
    parser.add_argument("--store", default=str(ROOT / ".iurc/store"))
    parser.add_argument("--api", action="store_true", help="ask through POST /api/ask instead of Gradio")
    parser.add_argument("--client", choices=("http", "gradio_client"), default="http",
                        help="how a simulated user talks to the Gradio queue (default: plain HTTP)")
    args = parser.parse_args()
    # All simulated users come from one address: the per-client limits (meant for one person or
    # program each) are raised so they measure the server, not the limiter.
    server = Server(Path(__import__("sys").executable).parent, Path(args.store), Path("/tmp/iurc-load-serve.log"),
                    IURC_MAX_IN_FLIGHT_PER_CLIENT=10_000, IURC_RATE_PER_MINUTE=1_000_000)
    results: list = []
    lock = threading.Lock()
    memory = [(0.0, rss_mb(server.process.pid))]
    started = time.time()
    stop_at = started + args.seconds
    target = api_user if args.api else queue_user if args.client == "http" else user
    threads = [threading.Thread(target=target, args=(server.url, stop_at, i, args.max_requests_per_user, results, lock))
               for i in range(args.users)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(5)
        memory.append((round(time.time() - started), rss_mb(server.process.pid)))
    for t in threads:
        t.join()
    server.stop()
    counts: dict[str, int] = {}
    for outcome, _ in results:
        key = outcome if outcome in ("answered", "refused", "lost") else "error"
        counts[key] = counts.get(key, 0) + 1
    answered = [ms for outcome, ms in results if outcome == "answered"]
    summary = {
        "date": time.strftime("%Y-%m-%d"),
        "path": "JSON API" if args.api else f"Gradio queue ({args.client})",
        "users": args.users, "seconds": args.seconds, "store": args.store,
        "requests": len(results), **{k: counts.get(k, 0) for k in ("answered", "refused", "lost", "error")},
        "answered_p50_ms": round(statistics.median(answered), 1) if answered else None,
        "answered_p95_ms": round(percentile(answered, 0.95), 1) if answered else None,
        "throughput_per_s": round(len(answered) / args.seconds, 1),
        "server_rss_mb_start_max_end": [round(memory[0][1]), round(max(m for _, m in memory)), round(memory[-1][1])],
        "server_rss_mb_every_5s": [round(m) for _, m in memory],
        "errors": sorted({o for o, _ in results if o.startswith("error")})[:5],
    }
    print(json.dumps(summary, indent=1))
    with (ROOT / "bench/load_results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(summary) + "\n")
    from bench.report import write_results

    write_results()


if __name__ == "__main__":
    main()
