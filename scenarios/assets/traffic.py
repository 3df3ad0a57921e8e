"""Sends a bounded number of HTTP GET requests to a loopback URL and prints
how many were answered and how many failed, as `ok=N failed=M`.

Usage: traffic.py URL COUNT PAUSE_MS
"""

import sys
import time
import urllib.error
import urllib.request


def main() -> None:
    url, count, pause_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    answered = failed = 0
    for _ in range(count):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                answered += 1
        except (urllib.error.URLError, ConnectionError, OSError):
            failed += 1
        time.sleep(pause_ms / 1000)
    print(f"ok={answered} failed={failed}")


if __name__ == "__main__":
    main()
